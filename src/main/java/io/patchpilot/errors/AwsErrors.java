package io.patchpilot.errors;

import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * Tells AWS errors that retrying cannot fix (access denied, region not enabled) from transient
 * ones (throttling, 5xx, network: the SDK has already retried those with backoff).
 */
public final class AwsErrors {
    private static final Set<String> DENIED = Set.of(
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "AuthorizationError",
            "AuthFailure",
            "OptInRequired",
            "UnrecognizedClientException",
            "InvalidClientTokenId");

    private AwsErrors() {}

    /** The AWS error code of the first AWS service error in the cause chain. */
    public static Optional<String> code(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AwsServiceException e && e.awsErrorDetails() != null)
                return Optional.ofNullable(e.awsErrorDetails().errorCode());
        }
        return Optional.empty();
    }

    public static boolean isDenied(Throwable t) {
        return code(t).map(DENIED::contains).orElse(false);
    }

    /** A permanent failure naming the account and region when access is denied; otherwise the error itself. */
    public static RuntimeException classify(Throwable t, String where) {
        if (isDenied(t))
            return new PermanentFailure(where + ": " + code(t).orElse("denied") + ": " + firstLine(t.getMessage()), t);
        return t instanceof RuntimeException re ? re : new IllegalStateException(t);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
