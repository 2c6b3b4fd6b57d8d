package io.patchpilot.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** One benchmark line: our figure next to its baseline measured in the same run. */
public record BenchResult(
        String name, String unit, double ours, String baselineName, double baseline, Map<String, Object> extra) {
    public BenchResult {
        extra = new LinkedHashMap<>(extra);
    }

    /** ours / baseline (1.0 = as fast as the baseline for rates). */
    public double ratio() {
        return baseline == 0 ? Double.NaN : ours / baseline;
    }
}
