package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.errors.PermanentFailure;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;

class AmiErrorsTest {
    private static Ec2Exception ec2(int status, String code) {
        return (Ec2Exception) Ec2Exception.builder()
                .statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder()
                        .errorCode(code)
                        .errorMessage("it said so\nsecond line")
                        .build())
                .build();
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of(ec2(400, "InvalidParameterValue"), true),
                Arguments.of(ec2(403, "UnauthorizedOperation"), true),
                Arguments.of(ec2(400, "VcpuLimitExceeded"), true),
                Arguments.of(ec2(503, "RequestLimitExceeded"), false),
                Arguments.of(ec2(400, "RequestLimitExceeded"), false),
                Arguments.of(ec2(400, "IncorrectInstanceState"), false),
                Arguments.of(ec2(400, "InvalidInstanceID.NotFound"), false),
                Arguments.of(ec2(500, "InternalError"), false),
                Arguments.of(ec2(500, "InsufficientInstanceCapacity"), false),
                Arguments.of(SdkClientException.create("connection reset"), false),
                Arguments.of(new PermanentFailure("AutoScaling group web no longer exists"), true),
                Arguments.of(new IllegalStateException("bug"), false));
    }

    @ParameterizedTest(name = "{0} -> permanent {1}")
    @MethodSource("errors")
    void client_errors_are_permanent_except_those_aws_gives_while_catching_up(Throwable t, boolean permanent) {
        assertEquals(permanent, AmiErrors.permanent(t));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void reasons_are_one_line(Throwable t, boolean permanent) {
        assertEquals(1, AmiErrors.describe(t).lines().count(), AmiErrors.describe(t));
    }

    @Test
    void a_reason_names_the_aws_error_code() {
        assertEquals("InvalidParameterValue: it said so", AmiErrors.describe(ec2(400, "InvalidParameterValue")));
        assertEquals(
                "AutoScaling group web no longer exists",
                AmiErrors.describe(new PermanentFailure("AutoScaling group web no longer exists")));
    }
}
