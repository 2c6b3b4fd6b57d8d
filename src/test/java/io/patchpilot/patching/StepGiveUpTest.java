package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.errors.DeadLetters;
import io.patchpilot.ledger.Ledger;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class StepGiveUpTest {
    private static Map<String, AttributeValue> failedBy(String from, String token) {
        Map<String, AttributeValue> item = new HashMap<>(StepGiveUp.marks(from, token));
        item.put("state", Ledger.s("Failed"));
        item.put("reason", Ledger.s("still failing after 5 receives: InternalError: boom"));
        return item;
    }

    @Test
    void the_letter_of_a_give_up_reopens_its_target_to_the_state_it_left() {
        assertEquals(Optional.of("Sent"), StepGiveUp.reopenTo(failedBy("Sent", "t1"), "t1"));
        assertEquals(Optional.of("Discovering"), StepGiveUp.reopenTo(failedBy("Discovering", "t1"), "t1"));
    }

    @Test
    void no_other_message_reopens_a_target() {
        // a stray copy of the step (no token), another give-up's letter, a letter sent back twice
        assertEquals(Optional.empty(), StepGiveUp.reopenTo(failedBy("Sent", "t1"), ""));
        assertEquals(Optional.empty(), StepGiveUp.reopenTo(failedBy("Sent", "t1"), "t2"));
        Map<String, AttributeValue> reopened = failedBy("Sent", "t1");
        reopened.put("state", Ledger.s("Sent"));
        assertEquals(Optional.empty(), StepGiveUp.reopenTo(reopened, "t1"));
        // a target Failed for a reason that is not a give-up (access denied) has no token to match
        Map<String, AttributeValue> denied = Map.of("state", Ledger.s("Failed"), "reason", Ledger.s("AccessDenied"));
        assertEquals(Optional.empty(), StepGiveUp.reopenTo(denied, "t1"));
        Map<String, AttributeValue> done = failedBy("Sent", "t1");
        done.put("state", Ledger.s("Done"));
        assertEquals(Optional.empty(), StepGiveUp.reopenTo(done, "t1"));
    }

    @Test
    void only_a_step_still_working_gives_up() {
        assertThrows(IllegalArgumentException.class, () -> StepGiveUp.marks("Done", "t1"));
        assertThrows(IllegalArgumentException.class, () -> StepGiveUp.marks("Failed", "t1"));
    }

    @Test
    void the_token_travels_as_the_letters_message_attribute() {
        assertEquals("t1", StepGiveUp.token(Map.of(DeadLetters.GIVE_UP_ATTRIBUTE, DeadLetters.text("t1"))));
        assertEquals("", StepGiveUp.token(Map.of()));
        assertEquals("", StepGiveUp.token(null));
        assertEquals("", StepGiveUp.token(Map.of("other", DeadLetters.text("t1"))));
    }

    @Test
    void reopening_clears_the_outcome_and_the_lease_and_counts_one_target_fewer_done() {
        Ledger.Change target = StepGiveUp.reopenTarget("Sent", Instant.parse("2026-12-07T22:00:00Z"));
        assertEquals("Sent", target.set().get("state").s());
        assertTrue(target.remove()
                .containsAll(List.of(
                        "reason", "finishedAt", "leaseUntil", "leaseHolder", StepGiveUp.TOKEN, StepGiveUp.FROM)));
        Ledger.Change run = StepGiveUp.reopenRun();
        assertEquals("Running", run.set().get("status").s());
        assertEquals(-1L, run.add().get("targetsDone"));
        assertEquals(List.of("finishedAt"), run.remove());
        assertEquals(Map.of(":failed", Ledger.s("Failed"), ":tok", Ledger.s("t1")), StepGiveUp.conditionValues("t1"));
    }

    @Test
    void a_run_that_ends_again_adds_to_the_instance_counters_only_what_is_new_since_its_earlier_end() {
        assertEquals(
                Map.of("Success", 4L),
                PatchRuns.newSince(
                        Map.of("Success", 17L, "Failed", 1L, "Skipped", 3L),
                        "{\"Success\":13,\"Failed\":1,\"Skipped\":3,\"Pending\":4}"));
        assertEquals(Map.of("Success", 2L), PatchRuns.newSince(Map.of("Success", 2L), "{}"));
    }
}
