package io.patchpilot.tagging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UnconfirmedTagChangesTest {
    private static final AccountRegion TARGET = new AccountRegion("111111111111", "us-east-1");
    private static final Map<String, String> WINDOW =
            Map.of("maintenance_window", "Default_maintenance_window", "PatchGroup", "Default_maintenance_window");

    private static TagOutcome planned(ResourceKind kind, String id) {
        return new TagOutcome(
                new TagRequest(TARGET, kind, id, "event:ev-1"),
                TagOutcome.Result.TAGGED,
                "",
                Map.of("maintenance_window", "wrong"),
                WINDOW);
    }

    private static String key(String id) {
        return UnconfirmedTagChanges.key(ResourceKind.INSTANCE, id);
    }

    @Test
    void a_change_landed_when_the_resource_shows_every_tag_it_was_to_get() {
        TagOutcome change = planned(ResourceKind.INSTANCE, "i-1");
        Map<String, String> now = new HashMap<>(WINDOW);
        now.put("Name", "web-1"); // other tags do not matter
        assertEquals(List.of(change), UnconfirmedTagChanges.landed(List.of(change), Map.of(key("i-1"), now), Set.of()));
    }

    @Test
    void a_change_that_did_not_land_or_only_in_part_is_left_to_the_redelivered_event() {
        TagOutcome change = planned(ResourceKind.INSTANCE, "i-1");
        assertTrue(UnconfirmedTagChanges.landed(
                        List.of(change), Map.of(key("i-1"), Map.of("maintenance_window", "wrong")), Set.of())
                .isEmpty());
        assertTrue(
                UnconfirmedTagChanges.landed(
                                List.of(change),
                                Map.of(key("i-1"), Map.of("maintenance_window", "Default_maintenance_window")),
                                Set.of())
                        .isEmpty(),
                "PatchGroup missing");
    }

    @Test
    void a_resource_audited_since_was_rewritten_and_audited_by_that_write() {
        TagOutcome change = planned(ResourceKind.INSTANCE, "i-1");
        assertTrue(UnconfirmedTagChanges.landed(List.of(change), Map.of(key("i-1"), WINDOW), Set.of(key("i-1")))
                .isEmpty());
    }

    @Test
    void a_resource_gone_or_of_another_kind_with_the_same_name_is_not_confirmed() {
        TagOutcome group = planned(ResourceKind.AUTO_SCALING_GROUP, "i-1");
        assertTrue(UnconfirmedTagChanges.landed(List.of(group), Map.of(key("i-1"), WINDOW), Set.of())
                .isEmpty());
        assertTrue(UnconfirmedTagChanges.landed(
                        List.of(planned(ResourceKind.INSTANCE, "i-2")), Map.of(key("i-1"), WINDOW), Set.of())
                .isEmpty());
    }

    @Test
    void a_record_is_abandoned_only_once_older_than_the_setting() {
        Instant at = Instant.parse("2026-11-27T10:00:00Z");
        assertFalse(UnconfirmedTagChanges.abandoned(at, at.plusSeconds(899), Duration.ofMinutes(15)));
        assertTrue(UnconfirmedTagChanges.abandoned(at, at.plusSeconds(900), Duration.ofMinutes(15)));
    }

    @Test
    void ledger_changes_read_back_as_the_outcomes_written() {
        TagOutcome change = planned(ResourceKind.AUTO_SCALING_GROUP, "web-asg");
        String json =
                "[{\"resourceId\":\"web-asg\",\"resourceType\":\"AWS::AutoScaling::AutoScalingGroup\",\"before\":{\"maintenance_window\":\"wrong\"},"
                        + "\"written\":{\"PatchGroup\":\"Default_maintenance_window\",\"maintenance_window\":\"Default_maintenance_window\"},\"cause\":\"event:ev-1\"}]";
        TagOutcome read = TagAudit.parse(TARGET, json).get(0);
        assertEquals(change.request(), read.request());
        assertEquals(change.before(), read.before());
        assertEquals(change.written(), read.written());
    }
}
