package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The claim's lease covers the SendCommand right after it without a renewal (each SendCommand is
 * bounded by half a lease); the poll follows the commands its message names, or a takeover's.
 */
class PatchTargetLeaseTest {
    private static final long LEASE = 90_000;

    @Test
    void a_lease_with_half_its_time_left_covers_a_send_without_a_write() {
        long claimed = 1_000_000;
        assertTrue(PatchTargetStep.leaseLeftSuffices(claimed + LEASE, claimed + 200, LEASE));
        assertTrue(PatchTargetStep.leaseLeftSuffices(claimed + LEASE, claimed + LEASE / 2, LEASE));
    }

    @Test
    void a_delivery_slowed_past_half_its_lease_renews_before_it_sends() {
        long claimed = 1_000_000;
        assertFalse(PatchTargetStep.leaseLeftSuffices(claimed + LEASE, claimed + LEASE / 2 + 1, LEASE));
        assertFalse(PatchTargetStep.leaseLeftSuffices(claimed + LEASE, claimed + LEASE + 5_000, LEASE));
    }

    @Test
    void the_poll_follows_the_commands_a_takeover_recorded_else_those_its_message_names() {
        Map<String, AttributeValue> recorded = Ledger.item("RUN#r", "TARGET#111111111111#us-east-1");
        recorded.put("commandIds", Ledger.s("c-3,c-4"));
        assertEquals(
                List.of("c-3", "c-4"),
                PatchTargetStep.commandIds(PatchRuns.read("{\"commandIds\":\"c-1\"}"), recorded));
        assertEquals(
                List.of("c-1", "c-2"),
                PatchTargetStep.commandIds(
                        PatchRuns.read("{\"commandIds\":\"c-1,c-2\"}"),
                        Ledger.item("RUN#r", "TARGET#111111111111#us-east-1")));
        PermanentFailure none = assertThrows(
                PermanentFailure.class,
                () -> PatchTargetStep.commandIds(
                        PatchRuns.read("{}"), Ledger.item("RUN#r", "TARGET#111111111111#us-east-1")));
        assertTrue(none.getMessage().startsWith("commandIds: "));
    }
}
