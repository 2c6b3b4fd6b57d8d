package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.windows.MaintenanceWindow;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The window-run message: validated like every message, every problem named by its field. */
class WindowRunRequestTest {
    private static final Instant NOW = Instant.parse("2026-12-07T15:30:12Z");

    @Test
    void a_minimal_request_runs_now_to_the_minute() {
        WindowRunRequest r =
                WindowRunRequest.parse("{\"type\":\"window-run\",\"window\":\"Default_maintenance_window\"}", NOW);
        assertEquals(
                new WindowRunRequest(
                        "Default_maintenance_window", null, false, "", Instant.parse("2026-12-07T15:30:00Z")),
                r);
    }

    @Test
    void skipping_the_gate_carries_its_reason() {
        WindowRunRequest r = WindowRunRequest.parse(
                "{\"type\":\"window-run\",\"window\":\"Prod_maintenance_window\",\"account\":\"111111111111\","
                        + "\"skipGate\":true,\"reason\":\"CVE-2026-1\",\"requestedAt\":\"2026-12-07T15:29:59Z\"}",
                NOW);
        assertEquals(
                new WindowRunRequest(
                        "Prod_maintenance_window",
                        "111111111111",
                        true,
                        "CVE-2026-1",
                        Instant.parse("2026-12-07T15:29:00Z")),
                r);
    }

    @Test
    void every_problem_is_named_at_once() {
        PermanentFailure e = assertThrows(
                PermanentFailure.class,
                () -> WindowRunRequest.parse(
                        "{\"type\":\"window-run\",\"window\":\"Prod\",\"account\":\"12\",\"skipGate\":\"yes\","
                                + "\"requestedAt\":\"soon\",\"colour\":1}",
                        NOW));
        assertEquals(
                "colour: unknown field; window: 'Prod' is not a window name such as Dev_maintenance_window;"
                        + " account: '12' is not a 12-digit account id; skipGate: '\"yes\"' is not true or false;"
                        + " requestedAt: 'soon' is not an ISO-8601 instant",
                e.getMessage());
    }

    @Test
    void skipping_the_gate_without_a_reason_is_refused() {
        PermanentFailure e = assertThrows(
                PermanentFailure.class,
                () -> WindowRunRequest.parse(
                        "{\"type\":\"window-run\",\"window\":\"Prod_maintenance_window\",\"skipGate\":true}", NOW));
        assertEquals("reason: required with skipGate (why the rollout gate is skipped)", e.getMessage());
    }

    @Test
    void a_request_from_the_future_is_refused() {
        PermanentFailure e = assertThrows(
                PermanentFailure.class,
                () -> WindowRunRequest.parse(
                        "{\"type\":\"window-run\",\"window\":\"Default_maintenance_window\","
                                + "\"requestedAt\":\"2026-12-07T16:30:00Z\"}",
                        NOW));
        assertEquals("requestedAt: 2026-12-07T16:30:00Z is in the future (now 2026-12-07T15:30:12Z)", e.getMessage());
    }

    @Test
    void a_manual_run_id_says_manual_and_names_the_minute() {
        assertEquals(
                "Default-manual-20261207T1530Z",
                PatchRuns.manualRunId(MaintenanceWindow.defaultWindow(null), Instant.parse("2026-12-07T15:30:41Z")));
    }
}
