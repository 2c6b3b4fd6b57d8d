package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a window-fire message stands for: a run, a rule's candidate time (INFO), or a refusal with its reason. */
class FireCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MaintenanceWindow DEFAULT = MaintenanceWindow.defaultWindow(null);
    // Monday 2026-12-07 15:30 UTC; the Default window opens Fridays 05:00 UTC
    private static final Instant NOW = Instant.parse("2026-12-07T15:30:12Z");

    @Test
    void an_occurrence_runs() {
        FireCheck c = FireCheck.of(DEFAULT, Instant.parse("2026-12-11T05:00:00Z"), NOW);
        assertEquals(FireCheck.Verdict.RUN, c.verdict());
        assertEquals(Optional.of(Instant.parse("2026-12-11T05:00:00Z")), c.occurrence());
    }

    @Test
    void a_late_delivery_within_30_minutes_is_still_its_occurrence() {
        FireCheck c = FireCheck.of(DEFAULT, Instant.parse("2026-12-11T05:20:00Z"), NOW);
        assertEquals(Optional.of(Instant.parse("2026-12-11T05:00:00Z")), c.occurrence());
    }

    @Test
    void a_time_that_is_no_occurrence_is_refused_naming_window_schedule_time_and_next_occurrence() {
        FireCheck c = FireCheck.of(DEFAULT, Instant.parse("2026-12-07T15:30:00Z"), NOW);
        assertEquals(FireCheck.Verdict.NOT_AN_OCCURRENCE, c.verdict());
        assertEquals(
                "time: 2026-12-07T15:30:00Z is not an occurrence of Default_maintenance_window (organization-wide,"
                        + " every FRIDAY 05:00 UTC for 6 h (cutoff 1 h)); next occurrence 2026-12-11T05:00:00Z;"
                        + " to run it now: patchpilot window run Default_maintenance_window",
                c.reason());
    }

    @Test
    void no_time_is_now_and_refused_when_now_is_no_occurrence() {
        FireCheck c = FireCheck.of(DEFAULT, null, NOW);
        assertEquals(FireCheck.Verdict.NOT_AN_OCCURRENCE, c.verdict());
        assertEquals(
                "time: absent, so taken as now (2026-12-07T15:30:12Z), which is not an occurrence of"
                        + " Default_maintenance_window (organization-wide, every FRIDAY 05:00 UTC for 6 h (cutoff 1 h));"
                        + " next occurrence 2026-12-11T05:00:00Z; to run it now: patchpilot window run"
                        + " Default_maintenance_window",
                c.reason());
    }

    @Test
    void no_time_runs_when_now_is_an_occurrence() {
        FireCheck c = FireCheck.of(DEFAULT, null, Instant.parse("2026-12-11T05:00:40Z"));
        assertEquals(FireCheck.Verdict.RUN, c.verdict());
    }

    @Test
    void the_rules_own_off_week_fire_of_a_two_weekly_window_is_only_logged() throws Exception {
        MaintenanceWindow w = new WindowValidator(List.of("Dev", "Test", "Prod"))
                .validate(
                        JSON.readTree("{\"Environment\":\"Dev\",\"PatchingFrequency\":14,"
                                + "\"PatchingWindowWeekday\":\"Monday\",\"PatchingWindowStartTime\":\"03\"}"),
                        "111111111111");
        w = w.withAnchor(WindowSchedule.anchorFor(w, Instant.parse("2026-11-27T12:00:00Z"))); // opens 2026-11-30
        FireCheck off = FireCheck.of(w, Instant.parse("2026-12-07T03:00:00Z"), NOW);
        assertEquals(FireCheck.Verdict.RULE_CANDIDATE, off.verdict());
        assertEquals(
                "time: 2026-12-07T03:00:00Z is a time the rule cron(0 3 ? * MON *) fires at to check, not an occurrence"
                        + " of Dev_maintenance_window (account 111111111111, every 2 weeks on MONDAY 03:00 UTC for 4 h"
                        + " (cutoff 1 h)); next occurrence 2026-12-14T03:00:00Z",
                off.reason());
        assertEquals(
                FireCheck.Verdict.NOT_AN_OCCURRENCE,
                FireCheck.of(w, Instant.parse("2026-12-07T04:00:00Z"), NOW).verdict());
    }
}
