package io.patchpilot.console;

/**
 * What long work says of itself now; a count of -1 does not apply to this kind of work.
 * {@code note}: why it ended so, or who started it.
 */
public record Progress(
        String status,
        long done,
        long total,
        String unit,
        long patched,
        long failed,
        long reports,
        boolean ended,
        boolean succeeded,
        String note) {

    /** Work in steps without instance or report counts (local start-up stages, benchmarks): ended at the last. */
    public static Progress steps(String status, long done, long total, String unit) {
        return new Progress(status, done, total, unit, -1, -1, -1, done >= total, true, "");
    }
}
