package io.patchpilot.patching;

import io.patchpilot.windows.MaintenanceWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Staged rollout: a window that names a predecessor (Prod after Test) runs only when the
 * predecessor's latest run has finished, has soaked long enough, and failed on no more than the
 * allowed share of its patched instances — so a bad patch stops at Test.
 */
public final class RolloutGate {
    private static final Set<String> FAILED = Set.of("Failed", "TimedOut", "Cancelled", "Undeliverable");

    private RolloutGate() {}

    /** The predecessor's latest run, as the ledger holds it. */
    public record PredecessorRun(String runId, String status, Instant finishedAt, Map<String, Long> counts) {}

    /** Why the run must hold, or empty when it may go. */
    public static Optional<String> blockReason(
            MaintenanceWindow w, Instant occurrence, Optional<PredecessorRun> latest) {
        if (w.predecessor() == null) return Optional.empty();
        String pred = w.predecessor() + "_maintenance_window";
        if (latest.isEmpty()) return Optional.of("predecessor " + pred + " has no run yet");
        PredecessorRun run = latest.get();
        if (run.finishedAt() == null) return Optional.of("predecessor run " + run.runId() + " is " + run.status());
        Instant soaked = run.finishedAt().plus(Duration.ofHours(w.soakHours()));
        if (occurrence.isBefore(soaked)) {
            return Optional.of("predecessor run " + run.runId() + " finished at " + run.finishedAt() + "; its "
                    + w.soakHours() + " h soak ends at " + soaked);
        }
        long failed = run.counts().entrySet().stream()
                .filter(e -> FAILED.contains(e.getKey()))
                .mapToLong(Map.Entry::getValue)
                .sum();
        long patched = failed + run.counts().getOrDefault("Success", 0L);
        if (patched > 0 && failed * 100 > (long) w.maxFailurePercent() * patched) {
            return Optional.of("predecessor run " + run.runId() + " failed on " + failed + " of " + patched
                    + " instances (" + (failed * 100 / patched) + " %, limit " + w.maxFailurePercent() + " %)");
        }
        return Optional.empty();
    }
}
