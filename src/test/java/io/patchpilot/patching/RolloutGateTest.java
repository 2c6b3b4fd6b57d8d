package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowValidator;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RolloutGateTest {
    private static final Instant OCCURRENCE = Instant.parse("2026-12-11T05:00:00Z");

    private static MaintenanceWindow prod() throws Exception {
        return new WindowValidator(List.of("Dev", "Test", "Prod"))
                .validate(
                        new ObjectMapper()
                                .readTree(
                                        "{\"Environment\":\"Prod\",\"PredecessorWindow\":\"Test\",\"SoakHours\":48,\"MaxFailurePercent\":10}"),
                        null);
    }

    private static RolloutGate.PredecessorRun run(String status, String finished, long success, long failed) {
        return new RolloutGate.PredecessorRun(
                "Test-20261204T0500Z",
                status,
                finished == null ? null : Instant.parse(finished),
                Map.of("Success", success, "Failed", failed, "Skipped", 3L));
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Optional.empty(), "predecessor Test_maintenance_window has no run yet"),
                Arguments.of(Optional.of(run("Running", null, 0, 0)), "predecessor run Test-20261204T0500Z is Running"),
                Arguments.of(Optional.of(run("Blocked", null, 0, 0)), "predecessor run Test-20261204T0500Z is Blocked"),
                Arguments.of(
                        Optional.of(run("Succeeded", "2026-12-10T06:00:00Z", 20, 0)),
                        "predecessor run Test-20261204T0500Z finished at 2026-12-10T06:00:00Z; its 48 h soak ends at 2026-12-12T06:00:00Z"),
                Arguments.of(
                        Optional.of(run("CompletedWithFailures", "2026-12-04T07:00:00Z", 8, 2)),
                        "predecessor run Test-20261204T0500Z failed on 2 of 10 instances (20 %, limit 10 %)"),
                Arguments.of(Optional.of(run("CompletedWithFailures", "2026-12-04T07:00:00Z", 9, 1)), ""),
                Arguments.of(Optional.of(run("Succeeded", "2026-12-04T07:00:00Z", 20, 0)), ""),
                Arguments.of(Optional.of(run("Succeeded", "2026-12-04T07:00:00Z", 0, 0)), ""));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("cases")
    void prod_after_test(Optional<RolloutGate.PredecessorRun> latest, String reason) throws Exception {
        assertEquals(reason, RolloutGate.blockReason(prod(), OCCURRENCE, latest).orElse(""));
    }
}
