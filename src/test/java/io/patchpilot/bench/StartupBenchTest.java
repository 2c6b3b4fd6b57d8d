package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The startup bench's breakdown: each stage as 'patchpilot local' prints it in a pipe, and medians. */
class StartupBenchTest {
    @Test
    void reads_each_stage_line_of_the_launch_output_and_nothing_else() {
        List<String> output = List.of(
                "local AWS up in 4.2 s: 1/5 start-up stages",
                "organization created in 0.3 s: 2/5 start-up stages",
                "12:00:01.000 INFO  [main] o.a.c.m.MainSupport - Apache Camel (Main) 4.18.0 is starting",
                "stacks deployed in 20.5 s: 3/5 start-up stages",
                "fleet loaded in 2.0 s: 4/5 start-up stages",
                "service started in 3.1 s: 5/5 start-up stages",
                "patchpilot local is up");
        assertEquals(
                Map.of(
                        "local AWS up", 4.2,
                        "organization created", 0.3,
                        "stacks deployed", 20.5,
                        "fleet loaded", 2.0,
                        "service started", 3.1),
                StartupBench.stages(output));
        assertEquals(
                List.of("local AWS up", "organization created", "stacks deployed", "fleet loaded", "service started"),
                List.copyOf(StartupBench.stages(output).keySet()));
    }

    @Test
    void the_median_of_three_is_the_middle_one() {
        assertEquals(31.0, StartupBench.median(List.of(40.0, 29.0, 31.0)));
        assertEquals(2.5, StartupBench.median(List.of(3.0, 2.0)));
    }
}
