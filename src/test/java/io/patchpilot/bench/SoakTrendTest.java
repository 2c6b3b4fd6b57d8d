package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SoakTrendTest {
    /** 30 minutes of a figure: base + slope × minute + noise of ± noise, seeded. */
    private static List<Double> minutes(double base, double slope, double noise) {
        Random random = new Random(30);
        List<Double> out = new ArrayList<>();
        for (int m = 1; m <= 30; m++) out.add(base + slope * m + noise * (2 * random.nextDouble() - 1));
        return out;
    }

    @Test
    void a_heap_leaking_two_mib_a_minute_under_gc_noise_grows_steadily() {
        SoakTrend t = SoakTrend.of("heap after GC", "MiB", minutes(120, 2, 6), SoakBench.HEAP_FLOOR_MIB);
        assertTrue(t.grows(), t.describe());
        assertEquals(7, t.fromMinute(), "a fifth of 30 minutes is warm-up");
        assertEquals(2, t.slopePerMinute(), 0.3);
    }

    @Test
    void a_flat_heap_with_the_same_noise_is_steady() {
        SoakTrend t = SoakTrend.of("heap after GC", "MiB", minutes(120, 0, 6), SoakBench.HEAP_FLOOR_MIB);
        assertFalse(t.grows(), t.describe());
    }

    @Test
    void growth_during_the_warm_up_then_flat_is_steady() {
        List<Double> threads = new ArrayList<>();
        for (int m = 1; m <= 30; m++) threads.add(m <= 5 ? 100.0 + 10 * m : 150.0);
        assertFalse(SoakTrend.of("threads", "threads", threads, SoakBench.THREADS_FLOOR)
                .grows());
    }

    @Test
    void one_spike_is_not_a_steady_growth_but_a_backlog_rising_from_zero_is() {
        List<Double> spike = new ArrayList<>(minutes(20, 0, 10));
        spike.set(29, 5000.0);
        assertFalse(SoakTrend.of("SQS backlog", "messages", spike, SoakBench.BACKLOG_FLOOR)
                .grows());
        assertTrue(SoakTrend.of("SQS backlog", "messages", minutes(0, 40, 30), SoakBench.BACKLOG_FLOOR)
                .grows());
    }

    @Test
    void a_slope_below_the_floor_or_below_a_tenth_of_the_figure_is_steady() {
        // 3 files over 23 minutes: under the floor of 10 however straight the line
        assertFalse(SoakTrend.of("open files", "files", minutes(200, 0.13, 0), SoakBench.FILES_FLOOR)
                .grows());
        // 40 MiB over 23 minutes of a 2 GiB heap: over the floor, under a tenth
        assertFalse(SoakTrend.of("heap after GC", "MiB", minutes(2048, 1.8, 0), SoakBench.HEAP_FLOOR_MIB)
                .grows());
    }

    @Test
    void too_few_samples_after_the_warm_up_are_not_judged_and_do_not_fail() {
        SoakTrend t = SoakTrend.of("threads", "threads", List.of(1.0, 50.0, 99.0), SoakBench.THREADS_FLOOR);
        assertFalse(t.judged());
        assertFalse(t.grows());
    }
}
