package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WindowScheduleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final WindowValidator VALIDATOR = new WindowValidator(List.of("Dev", "Test", "Prod"));
    // Friday 2026-11-27 12:00 UTC
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

    private static MaintenanceWindow window(String json) throws Exception {
        MaintenanceWindow w = VALIDATOR.validate(JSON.readTree(json), "111111111111");
        return w.withAnchor(WindowSchedule.anchorFor(w, NOW));
    }

    /** window json, rule expression, next three openings (UTC). */
    static Stream<Arguments> schedules() {
        return Stream.of(
                Arguments.of(
                        "{\"Environment\":\"Dev\"}",
                        "cron(0 5 ? * FRI *)",
                        List.of("2026-12-04T05:00:00Z", "2026-12-11T05:00:00Z", "2026-12-18T05:00:00Z")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"PatchingFrequency\":14,\"PatchingWindowWeekday\":\"Monday\",\"PatchingWindowStartTime\":\"03\"}",
                        "cron(0 3 ? * MON *)",
                        List.of("2026-11-30T03:00:00Z", "2026-12-14T03:00:00Z", "2026-12-28T03:00:00Z")),
                Arguments.of(
                        "{\"Environment\":\"Prod\",\"PatchTuesdayOffsetDays\":3,\"PatchingWindowStartTime\":22}",
                        "cron(0 22 * * ? *)",
                        List.of("2026-12-11T22:00:00Z", "2027-01-15T22:00:00Z", "2027-02-12T22:00:00Z")),
                Arguments.of(
                        "{\"Environment\":\"Test\",\"PatchingWindowWeekday\":\"Sunday\",\"PatchingWindowStartTime\":2,\"TimeZone\":\"Europe/Berlin\"}",
                        "cron(0 * * * ? *)",
                        List.of("2026-11-29T01:00:00Z", "2026-12-06T01:00:00Z", "2026-12-13T01:00:00Z")),
                Arguments.of(
                        "{\"Environment\":\"Test\",\"CronExpression\":\"cron(30 4 ? * 3#2 *)\"}",
                        "cron(30 4 ? * 3#2 *)",
                        List.of("2026-12-08T04:30:00Z", "2027-01-12T04:30:00Z", "2027-02-09T04:30:00Z")),
                Arguments.of(
                        "{\"Environment\":\"Test\",\"CronExpression\":\"cron(0 1 L * ? *)\"}",
                        "cron(0 1 L * ? *)",
                        List.of("2026-11-30T01:00:00Z", "2026-12-31T01:00:00Z", "2027-01-31T01:00:00Z")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedules")
    void rule_expression_and_next_openings(String json, String rule, List<String> next) throws Exception {
        MaintenanceWindow w = window(json);
        assertEquals(rule, WindowSchedule.ruleExpression(w));
        assertEquals(
                next,
                WindowSchedule.nextOpenings(w, NOW, 3).stream()
                        .map(Instant::toString)
                        .toList());
    }

    @Test
    void a_fortnightly_window_fires_weekly_but_only_every_other_fire_is_an_occurrence() throws Exception {
        MaintenanceWindow w = window(
                "{\"Environment\":\"Dev\",\"PatchingFrequency\":14,\"PatchingWindowWeekday\":\"Monday\",\"PatchingWindowStartTime\":3}");
        assertTrue(WindowSchedule.occurrenceAt(w, Instant.parse("2026-11-30T03:00:04Z"))
                .isPresent());
        assertTrue(
                WindowSchedule.occurrenceAt(w, Instant.parse("2026-12-07T03:00:00Z"))
                        .isEmpty(),
                "off week");
        assertEquals(
                Instant.parse("2026-12-14T03:00:00Z"),
                WindowSchedule.occurrenceAt(w, Instant.parse("2026-12-14T03:10:00Z"))
                        .orElseThrow());
    }

    @Test
    void local_time_zone_windows_keep_their_local_hour_across_daylight_saving() throws Exception {
        MaintenanceWindow w = window(
                "{\"Environment\":\"Test\",\"PatchingWindowWeekday\":\"Sunday\",\"PatchingWindowStartTime\":2,\"TimeZone\":\"Europe/Berlin\"}");
        // 02:00 Berlin is 01:00 UTC in winter and 00:00 UTC in summer
        assertEquals(
                Instant.parse("2027-04-04T00:00:00Z"),
                WindowSchedule.nextOpening(w, Instant.parse("2027-04-01T00:00:00Z"))
                        .orElseThrow());
        assertTrue(
                WindowSchedule.occurrenceAt(w, Instant.parse("2026-11-29T02:00:00Z"))
                        .isEmpty(),
                "an hourly fire that is not 02:00 Berlin");
    }

    @Test
    void the_default_window_is_friday_five_utc_for_six_hours_with_one_hour_cutoff() {
        MaintenanceWindow d = MaintenanceWindow.defaultWindow(LocalDate.of(2026, 11, 27));
        assertEquals("Default_maintenance_window", d.name());
        assertEquals("cron(0 5 ? * FRI *)", WindowSchedule.ruleExpression(d));
        Instant opening = Instant.parse("2026-12-04T05:00:00Z");
        assertEquals(Instant.parse("2026-12-04T10:00:00Z"), WindowSchedule.lastStart(d, opening));
        assertEquals(Instant.parse("2026-12-04T11:00:00Z"), WindowSchedule.end(d, opening));
    }

    static Stream<Arguments> badCrons() {
        return Stream.of(
                Arguments.of("0 5 * * ?", "must look like cron("),
                Arguments.of("cron(0 5 * * *)", "needs 6 fields"),
                Arguments.of("cron(0 5 * * MON *)", "exactly one of day-of-month and day-of-week must be '?'"),
                Arguments.of("cron(0 25 ? * MON *)", "hours: 25 is outside 0-23"),
                Arguments.of("cron(0 5 15W * ? *)", "'W' (nearest weekday) is not supported"),
                Arguments.of("cron(0 5 ? * FOO *)", "day-of-week: 'FOO' is not a number or name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCrons")
    void bad_cron_expressions_say_what_is_wrong(String cron, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AwsCron.parse(cron));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void cron_next_handles_lists_ranges_steps_and_names() {
        AwsCron c = AwsCron.parse("cron(0/30 8-9 ? JAN,JUL MON-FRI 2027)");
        assertEquals(
                ZonedDateTime.of(2027, 1, 1, 8, 0, 0, 0, ZoneOffset.UTC),
                c.next(ZonedDateTime.of(2026, 11, 27, 0, 0, 0, 0, ZoneOffset.UTC))
                        .orElseThrow());
        assertEquals(
                ZonedDateTime.of(2027, 1, 1, 8, 30, 0, 0, ZoneOffset.UTC),
                c.next(ZonedDateTime.of(2027, 1, 1, 8, 0, 0, 0, ZoneOffset.UTC)).orElseThrow());
        assertEquals(
                ZonedDateTime.of(2027, 1, 4, 8, 0, 0, 0, ZoneOffset.UTC),
                c.next(ZonedDateTime.of(2027, 1, 1, 9, 30, 0, 0, ZoneOffset.UTC))
                        .orElseThrow(),
                "skips the weekend");
        assertTrue(AwsCron.parse("cron(0 0 1 1 ? 2020)")
                .next(ZonedDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC))
                .isEmpty());
    }
}
