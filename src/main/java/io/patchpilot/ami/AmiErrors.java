package io.patchpilot.ami;

import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.PermanentFailure;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * Permanent or transient, for the AMI pipeline's AWS calls. Permanent: a client error AWS will
 * answer the same way again (invalid parameter, denied, a limit reached) — the build is cleaned
 * up and the reason recorded. Transient: throttling, 5xx, network, and the client errors AWS
 * gives while it is still catching up with a resource just created or changing state — the step
 * fails and SQS delivers it again.
 */
public final class AmiErrors {
    private static final Set<String> TRANSIENT_CLIENT_ERRORS = Set.of(
            "RequestLimitExceeded",
            "Throttling",
            "ThrottlingException",
            "TooManyRequestsException",
            "ResourceContention",
            "ScalingActivityInProgress",
            "IncorrectInstanceState",
            "IncorrectState",
            "InvalidInstanceID.NotFound",
            "InsufficientInstanceCapacity",
            "ServiceUnavailable",
            "Unavailable",
            "InternalError",
            "InternalFailure",
            "RequestTimeout");

    private AmiErrors() {}

    public static boolean permanent(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PermanentFailure) return true;
            if (c instanceof AwsServiceException e) {
                if (e.isThrottlingException()) return false;
                if (AwsErrors.code(e).map(TRANSIENT_CLIENT_ERRORS::contains).orElse(false)) return false;
                return e.statusCode() >= 400 && e.statusCode() < 500;
            }
        }
        return false;
    }

    /** One line: the AWS error code and message, or the exception's message. */
    public static String describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PermanentFailure) return c.getMessage();
            if (c instanceof AwsServiceException e && e.awsErrorDetails() != null) {
                String message = e.awsErrorDetails().errorMessage();
                return e.awsErrorDetails().errorCode() + (message == null ? "" : ": " + firstLine(message));
            }
        }
        return t.getClass().getSimpleName() + ": " + firstLine(String.valueOf(t.getMessage()));
    }

    private static String firstLine(String s) {
        return s.lines().findFirst().orElse("");
    }
}
