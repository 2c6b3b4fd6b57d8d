package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.DayOfWeek;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WindowValidatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final WindowValidator V = new WindowValidator(List.of("Dev", "Test", "Prod"));

    @Test
    void seed_product_defaults_fill_what_is_missing() throws Exception {
        MaintenanceWindow w = V.validate(JSON.readTree("{\"Environment\":\"dev\"}"), "111111111111");
        assertEquals("Dev", w.environment());
        assertEquals("Dev_maintenance_window", w.name());
        assertEquals("111111111111#Dev_maintenance_window", w.key());
        assertEquals(7, w.frequencyDays());
        assertEquals(DayOfWeek.FRIDAY, w.weekday());
        assertEquals(5, w.startHour());
        assertEquals("Install", w.operation());
        assertEquals("RebootIfNeeded", w.postPatchOperation());
        assertEquals("No", w.includeAsg());
        assertEquals("Yes", w.refreshAsgInstances());
        assertEquals("10%", w.maxConcurrency());
    }

    /** body, owner, the problems reported (all at once, each naming its field). */
    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("{}", "111111111111", List.of("Environment: required (one of Dev, Test, Prod)")),
                Arguments.of(
                        "{\"Environment\":\"Staging\"}",
                        "111111111111",
                        List.of("Environment: 'Staging' is not one of Dev, Test, Prod")),
                Arguments.of(
                        "{\"Environment\":\"Default\"}",
                        "111111111111",
                        List.of("Environment: Default is the organization-wide window; choose one of Dev, Test, Prod")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"Account\":\"222222222222\"}",
                        "111111111111",
                        List.of("Account: 222222222222 is not the requesting account 111111111111")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"PatchingFrequency\":10,\"PatchingWindowWeekday\":\"Caturday\",\"PatchingWindowStartTime\":24}",
                        "111111111111",
                        List.of(
                                "PatchingFrequency: 10 is not a multiple of 7 (7, 14, 21, 28, 35, 42)",
                                "PatchingWindowWeekday: 'Caturday' is not a weekday (Monday-Sunday)",
                                "PatchingWindowStartTime: 24 is outside 0-23")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"PatchingWindowDuration\":2,\"CutoffHours\":2,\"RetainHealthyPercentage\":5}",
                        "111111111111",
                        List.of(
                                "CutoffHours: 2 must be less than PatchingWindowDuration 2",
                                "RetainHealthyPercentage: 5 is outside 10-100")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"PatchingOperation\":\"Patch\",\"OperationPostPatching\":\"Always\",\"IncludeASG\":\"maybe\"}",
                        "111111111111",
                        List.of(
                                "PatchingOperation: 'Patch' is not one of Scan, Install",
                                "OperationPostPatching: 'Always' is not one of RebootIfNeeded, NoReboot",
                                "IncludeASG: 'maybe' is not one of Yes, No")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"CronExpression\":\"cron(0 5 * * MON *)\",\"PatchTuesdayOffsetDays\":2}",
                        "111111111111",
                        List.of(
                                "CronExpression: exactly one of day-of-month and day-of-week must be '?'",
                                "PatchTuesdayOffsetDays: cannot be combined with CronExpression")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"TimeZone\":\"Mars/Olympus\",\"MaxConcurrency\":\"0\",\"MaxErrors\":\"150%\"}",
                        "111111111111",
                        List.of(
                                "TimeZone: 'Mars/Olympus' is not a time zone such as Europe/Berlin",
                                "MaxConcurrency: '0' is not a count (>= 1) or a percentage such as 10%",
                                "MaxErrors: '150%' is not a count (>= 0) or a percentage such as 10%")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"PreInstallHookDocName\":\"drain lb; rm -rf\",\"PatchingOperation\":\"Scan\",\"OnExitHookDocName\":\"Start-App\"}",
                        "111111111111",
                        List.of(
                                "PreInstallHookDocName: 'drain lb; rm -rf' is not an SSM document name or ARN",
                                "OnExitHookDocName: hooks run only with PatchingOperation Install")),
                Arguments.of(
                        "{\"Environment\":\"Dev\",\"Colour\":\"blue\",\"PatchingWindowDuration\":\"long\"}",
                        "111111111111",
                        List.of("Colour: unknown field", "PatchingWindowDuration: 'long' is not a whole number")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void every_problem_is_reported_naming_its_field(String body, String owner, List<String> problems) throws Exception {
        WindowValidator.InvalidWindow e =
                assertThrows(WindowValidator.InvalidWindow.class, () -> V.validate(JSON.readTree(body), owner));
        assertEquals(problems, e.problems());
    }

    @Test
    void hook_documents_by_name_or_shared_arn_are_kept() throws Exception {
        MaintenanceWindow w = V.validate(
                JSON.readTree("{\"Environment\":\"Prod\",\"PreInstallHookDocName\":\"Drain-From-ALB\","
                        + "\"OnExitHookDocName\":\"arn:aws:ssm:us-east-1:123456789012:document/Start-App\"}"),
                "222222222222");
        assertEquals("Drain-From-ALB", w.preInstallHook());
        assertEquals(null, w.postInstallHook());
        assertEquals("arn:aws:ssm:us-east-1:123456789012:document/Start-App", w.onExitHook());
        assertEquals(true, w.hasHooks());
    }

    @Test
    void the_central_team_may_define_the_organization_wide_default_window() throws Exception {
        MaintenanceWindow w =
                V.validate(JSON.readTree("{\"Environment\":\"Default\",\"PatchingWindowDuration\":6}"), null);
        assertEquals("*#Default_maintenance_window", w.key());
    }
}
