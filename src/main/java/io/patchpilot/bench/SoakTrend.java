package io.patchpilot.bench;

import java.util.List;
import java.util.Locale;

/**
 * Whether a figure sampled once a minute in the soak grows steadily. The first {@link #warmUp}
 * samples are left out (the JIT, pools and caches fill then); over the rest a least-squares line is
 * fitted, and the figure grows steadily when all three hold:
 *
 * <ul>
 *   <li>the line's growth over the judged span (slope × minutes) exceeds the figure's absolute floor
 *       (a few MiB or threads are noise, not a leak);
 *   <li>that growth exceeds {@link #RELATIVE} of the line's value at the start of the span (a big
 *       heap moving by its GC noise is not a leak either);
 *   <li>the line explains the samples, R² ≥ {@link #MIN_R2} (one spike, or a saw-tooth, is not a
 *       steady growth).
 * </ul>
 *
 * Fewer than {@link #MIN_SAMPLES} judged samples: too short to judge, which is not a failure.
 */
public record SoakTrend(
        String metric,
        String unit,
        double floor,
        int fromMinute,
        int toMinute,
        double slopePerMinute,
        double growth,
        double start,
        double r2,
        boolean judged,
        boolean grows) {
    static final double RELATIVE = 0.10;
    static final double MIN_R2 = 0.5;
    static final int MIN_SAMPLES = 3;

    /** Samples left out at the start: a fifth of the run, at least one. */
    static int warmUp(int samples) {
        return Math.max(1, samples / 5);
    }

    /**
     * @param values the figure at minute 1, 2, … (index 0 is minute 1)
     * @param floor the absolute growth over the judged span below which nothing is a leak
     */
    static SoakTrend of(String metric, String unit, List<Double> values, double floor) {
        int skip = warmUp(values.size());
        int n = values.size() - skip;
        if (n < MIN_SAMPLES)
            return new SoakTrend(metric, unit, floor, skip + 1, values.size(), 0, 0, 0, 0, false, false);
        double meanX = 0;
        double meanY = 0;
        for (int i = skip; i < values.size(); i++) {
            meanX += i + 1;
            meanY += values.get(i);
        }
        meanX /= n;
        meanY /= n;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int i = skip; i < values.size(); i++) {
            double dx = i + 1 - meanX;
            double dy = values.get(i) - meanY;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        double slope = sxy / sxx;
        double r2 = syy == 0 ? 0 : (sxy * sxy) / (sxx * syy);
        int from = skip + 1;
        int to = values.size();
        double growth = slope * (to - from);
        double start = meanY + slope * (from - meanX);
        boolean grows = growth > floor && growth > RELATIVE * Math.max(0, start) && r2 >= MIN_R2;
        return new SoakTrend(metric, unit, floor, from, to, slope, growth, start, r2, true, grows);
    }

    /** One line: the figure, its slope, and the verdict with the reason. */
    String describe() {
        if (!judged)
            return String.format(
                    Locale.ROOT,
                    "%s: not judged (%d samples after the warm-up, %d needed)",
                    metric,
                    Math.max(0, toMinute - fromMinute + 1),
                    MIN_SAMPLES);
        return String.format(
                Locale.ROOT,
                "%s: %+.2f %s/min over minutes %d-%d (%+.1f %s from %.1f, R² %.2f; a leak is > %.0f %s, > %.0f%% and R² >= %.1f) -> %s",
                metric,
                slopePerMinute,
                unit,
                fromMinute,
                toMinute,
                growth,
                unit,
                start,
                r2,
                floor,
                unit,
                RELATIVE * 100,
                MIN_R2,
                grows ? "GROWS STEADILY" : "steady");
    }
}
