package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.DescribeInstancePatchStatesRequest;
import software.amazon.awssdk.services.ssm.model.DescribeInstancePatchStatesResponse;
import software.amazon.awssdk.services.ssm.model.GetCommandInvocationRequest;
import software.amazon.awssdk.services.ssm.model.GetCommandInvocationResponse;
import software.amazon.awssdk.services.ssm.model.InstancePatchState;
import software.amazon.awssdk.services.ssm.model.InvocationDoesNotExistException;

class InvocationDetailTest {
    @Test
    void the_output_location_is_where_ssm_writes_with_the_commands_bucket_and_prefix() {
        assertEquals(
                "s3://logs/patching/accountid=111111111111/region=us-east-1/run=Default-20261204T0500Z/cmd-1/i-0abc/",
                InvocationDetail.outputLocation(
                        "logs",
                        InvocationDetail.keyPrefix(
                                new AccountRegion("111111111111", "us-east-1"), "Default-20261204T0500Z"),
                        "cmd-1",
                        "i-0abc"));
    }

    @Test
    void the_tail_is_the_last_40_lines_and_bounded_in_size() {
        String text = IntStream.rangeClosed(1, 100).mapToObj(i -> "line " + i).collect(Collectors.joining("\n"));
        String tail = InvocationDetail.tail(text);
        assertEquals(40, tail.lines().count());
        assertTrue(tail.startsWith("line 61\n") && tail.endsWith("line 100"), tail);
        String wide =
                IntStream.rangeClosed(1, 40).mapToObj(i -> "x".repeat(500)).collect(Collectors.joining("\n"));
        assertTrue(InvocationDetail.tail(wide).length() <= InvocationDetail.TAIL_CHARS + 1);
        assertEquals("short", InvocationDetail.tail("short\n"));
    }

    /** An SSM client that answers GetCommandInvocation only. */
    private static SsmClient answering(Function<GetCommandInvocationRequest, GetCommandInvocationResponse> answer) {
        return new SsmClient() {
            @Override
            public GetCommandInvocationResponse getCommandInvocation(GetCommandInvocationRequest r) {
                return answer.apply(r);
            }

            @Override
            public String serviceName() {
                return "ssm";
            }

            @Override
            public void close() {}
        };
    }

    private static ObjectNode failed() {
        return new ObjectMapper()
                .createObjectNode()
                .put("status", "Failed")
                .put("reason", "Failed")
                .put("commandId", "cmd-1")
                .put("document", "AWS-RunPatchBaseline");
    }

    @Test
    void a_failure_gets_its_status_details_response_code_output_tail_and_a_reason_quoting_it() {
        ObjectNode o = failed();
        InvocationDetail.why(
                o,
                answering(r -> GetCommandInvocationResponse.builder()
                        .statusDetails("Failed")
                        .responseCode(1)
                        .standardOutputContent("Installing KB1 ...\nFailed to install KB1: exit code 1\n")
                        .standardErrorContent("KB1: package manager error\n")
                        .build()),
                "i-0abc",
                "s3://logs/p/cmd-1/i-0abc/");
        assertEquals("s3://logs/p/cmd-1/i-0abc/", o.path("outputLocation").asText());
        assertEquals(1, o.path("responseCode").asInt());
        assertTrue(o.path("outputTail").asText().contains("Failed to install KB1"), o.toString());
        assertEquals(
                "Failed (response code 1): KB1: package manager error",
                o.path("reason").asText());
        assertTrue(!o.has("outputUnavailable"));
    }

    @Test
    void output_never_written_or_not_readable_leaves_status_and_reason_and_says_why() {
        ObjectNode cancelled = failed().put("status", "Cancelled").put("reason", "Terminated");
        InvocationDetail.why(
                cancelled,
                answering(r -> GetCommandInvocationResponse.builder()
                        .statusDetails("Terminated")
                        .responseCode(-1)
                        .standardOutputContent("")
                        .build()),
                "i-0abc",
                "s3://logs/p/cmd-1/i-0abc/");
        assertEquals("Cancelled", cancelled.path("status").asText());
        assertEquals("Terminated", cancelled.path("reason").asText());
        assertTrue(cancelled.path("outputUnavailable").asText().contains("cancelled"), cancelled.toString());
        assertTrue(!cancelled.has("outputTail") && !cancelled.has("responseCode"), cancelled.toString());

        ObjectNode lost = failed();
        InvocationDetail.why(
                lost,
                answering(r -> {
                    throw (InvocationDoesNotExistException) InvocationDoesNotExistException.builder()
                            .awsErrorDetails(AwsErrorDetails.builder()
                                    .errorCode("InvocationDoesNotExist")
                                    .build())
                            .message("no such invocation")
                            .build();
                }),
                "i-0abc",
                "s3://logs/p/cmd-1/i-0abc/");
        assertEquals("Failed", lost.path("status").asText());
        assertTrue(
                lost.path("outputUnavailable")
                        .asText()
                        .startsWith("GetCommandInvocation failed: InvocationDoesNotExist"),
                lost.toString());
        assertEquals("s3://logs/p/cmd-1/i-0abc/", lost.path("outputLocation").asText());
    }

    @Test
    void patch_counts_are_read_after_the_command_and_a_missing_state_reads_unknown_never_zero() {
        ObjectNode known = failed().put("status", "Success");
        ObjectNode missing = failed().put("status", "Success");
        ObjectNode skipped = new ObjectMapper().createObjectNode().put("status", "Skipped");
        Map<String, ObjectNode> instances = new LinkedHashMap<>();
        instances.put("i-known", known);
        instances.put("i-missing", missing);
        instances.put("i-skipped", skipped);
        SsmClient ssm = new SsmClient() {
            @Override
            public DescribeInstancePatchStatesResponse describeInstancePatchStates(
                    DescribeInstancePatchStatesRequest r) {
                return DescribeInstancePatchStatesResponse.builder()
                        .instancePatchStates(InstancePatchState.builder()
                                .instanceId("i-known")
                                .installedCount(3)
                                .installedOtherCount(1)
                                .installedPendingRebootCount(0)
                                .missingCount(0)
                                .failedCount(0)
                                .notApplicableCount(7)
                                .build())
                        .build();
            }

            @Override
            public String serviceName() {
                return "ssm";
            }

            @Override
            public void close() {}
        };
        InvocationDetail.patchStates(ssm, instances);
        assertEquals(3, known.path("patches").path("installed").asInt());
        assertEquals(7, known.path("patches").path("notApplicable").asInt());
        assertEquals("unknown", missing.path("patchState").asText());
        assertTrue(!missing.has("patches"), "no zeros for a state SSM does not have: " + missing);
        assertTrue(!skipped.has("patchState"), "not commanded, not asked");

        ObjectNode refused = failed();
        InvocationDetail.patchStates(
                answering(r -> GetCommandInvocationResponse.builder().build()), Map.of("i-x", refused));
        assertEquals("unknown", refused.path("patchState").asText());
        assertTrue(
                refused.path("patchStateReason").asText().startsWith("DescribeInstancePatchStates failed"),
                refused.toString());
    }

    @Test
    void an_invocation_without_output_says_why() {
        assertTrue(InvocationDetail.noOutputReason("Terminated").contains("cancelled"));
        assertTrue(InvocationDetail.noOutputReason("DeliveryTimedOut").contains("not delivered"));
        assertTrue(InvocationDetail.noOutputReason(null).contains("status details: none"));
    }
}
