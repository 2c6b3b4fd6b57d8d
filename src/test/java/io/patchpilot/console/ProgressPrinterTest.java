package io.patchpilot.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The bar on a terminal and the plain lines in a pipe, for runs and for work in steps. */
class ProgressPrinterTest {
    private static String printed(boolean terminal, Consumer<ProgressPrinter> shows) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        shows.accept(new ProgressPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void the_bar_fills_with_the_account_regions_done() {
        assertEquals(
                "[##########..........] 2/4 account-regions · 3 patched · 1 failed · Running",
                ProgressPrinter.bar(new Progress("Running", 2, 4, "account-regions", 3, 1, -1, false, false, "")));
        assertEquals(
                "[....................] 0/0 account-regions · 0 patched · 0 failed · Dispatching",
                ProgressPrinter.bar(new Progress("Dispatching", 0, 0, "account-regions", 0, 0, -1, false, false, "")));
    }

    @Test
    void a_report_counts_reports_written_and_a_sweep_its_failures() {
        assertEquals(
                "Querying: 6/6 account-regions · 2 reports written",
                ProgressPrinter.line(new Progress("Querying", 6, 6, "account-regions", -1, -1, 2, false, false, "")));
        assertEquals(
                "Running: 5/6 account-regions · 0 failed",
                ProgressPrinter.line(new Progress("Running", 5, 6, "account-regions", -1, 0, -1, false, false, "")));
    }

    @Test
    void in_a_pipe_steps_print_one_plain_line_each_and_a_repeat_not_again() {
        List<Progress> stages = List.of(
                Progress.steps("local AWS up in 4.2 s", 1, 3, "start-up stages"),
                Progress.steps("local AWS up in 4.2 s", 1, 3, "start-up stages"),
                Progress.steps("stacks deployed in 20.5 s", 2, 3, "start-up stages"),
                Progress.steps("service started in 3.0 s", 3, 3, "start-up stages"));
        assertEquals("""
                local AWS up in 4.2 s: 1/3 start-up stages
                stacks deployed in 20.5 s: 2/3 start-up stages
                service started in 3.0 s: 3/3 start-up stages
                """, printed(false, p -> stages.forEach(p::show)));
    }

    @Test
    void on_a_terminal_the_bar_is_redrawn_in_place_and_ends_its_line_at_the_last_step() {
        assertEquals(
                "\r[######..............] 1/3 benchmarks · sqs running"
                        + "\r[####################] 3/3 benchmarks · report done in 9.0 s\n",
                printed(true, p -> {
                    p.show(Progress.steps("sqs running", 1, 3, "benchmarks"));
                    p.show(Progress.steps("report done in 9.0 s", 3, 3, "benchmarks"));
                }));
    }
}
