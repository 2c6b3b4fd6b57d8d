package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

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

    @Test
    void an_invocation_without_output_says_why() {
        assertTrue(InvocationDetail.noOutputReason("Terminated").contains("cancelled"));
        assertTrue(InvocationDetail.noOutputReason("DeliveryTimedOut").contains("not delivered"));
        assertTrue(InvocationDetail.noOutputReason(null).contains("status details: none"));
    }
}
