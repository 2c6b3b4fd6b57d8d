package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportBenchTest {
    @Test
    void median_of_rounds_ignores_one_slow_round_and_averages_the_middle_pair() {
        assertEquals(2.0, ReportBench.median(List.of(9.0, 2.0, 1.0)));
        assertEquals(2.5, ReportBench.median(List.of(4.0, 1.0, 3.0, 2.0)));
    }

    @Test
    void default_options_generate_a_million_compliance_items() {
        assertEquals(1_000_000L, new ReportBench.Options(20, 250, 100).items());
    }
}
