package io.patchpilot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.console.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Following long work: the bar and the plain lines, and the exit code of 'runs show --follow'. */
class FollowTest {
    private static Progress run(String status, long done, long patched, long failed) {
        boolean ended = List.of("Succeeded", "CompletedWithFailures", "Blocked").contains(status);
        return new Progress(
                status, done, 4, "account-regions", patched, failed, -1, ended, status.equals("Succeeded"), "");
    }

    private static String follow(boolean terminal, Progress... states) throws InterruptedException {
        return followWithExit(terminal, states).output;
    }

    private record Outcome(int exit, String output) {}

    private static Outcome followWithExit(boolean terminal, Progress... states) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Deque<Progress> queue = new ArrayDeque<>(List.of(states));
        Follow f = new Follow(
                new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal, Duration.ZERO, Duration.ofSeconds(5));
        int exit = f.follow("run R", () -> Optional.ofNullable(queue.size() > 1 ? queue.poll() : queue.peek()), "hint");
        return new Outcome(exit, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void in_a_pipe_a_line_only_when_something_changed() throws InterruptedException {
        assertEquals(
                String.join(
                        "\n",
                        "Running: 0/4 account-regions · 0 patched · 0 failed",
                        "Running: 2/4 account-regions · 3 patched · 0 failed",
                        "Succeeded: 4/4 account-regions · 6 patched · 0 failed",
                        "run R Succeeded",
                        ""),
                follow(
                        false,
                        run("Running", 0, 0, 0),
                        run("Running", 0, 0, 0),
                        run("Running", 2, 3, 0),
                        run("Running", 2, 3, 0),
                        run("Succeeded", 4, 6, 0)));
    }

    @Test
    void on_a_terminal_one_line_redrawn_in_place() throws InterruptedException {
        String out = follow(true, run("Running", 2, 3, 0), run("Succeeded", 4, 6, 0));
        assertEquals(
                "\r[##########..........] 2/4 account-regions · 3 patched · 0 failed · Running"
                        + "\r[####################] 4/4 account-regions · 6 patched · 0 failed · Succeeded"
                        + "\nrun R Succeeded\n",
                out);
    }

    @Test
    void exit_code_as_runs_show_follow() throws InterruptedException {
        assertEquals(0, followWithExit(false, run("Succeeded", 4, 6, 0)).exit());
        assertEquals(
                1, followWithExit(false, run("CompletedWithFailures", 4, 5, 1)).exit());
        assertEquals(1, followWithExit(false, run("Blocked", 0, 0, 0)).exit());
    }

    @Test
    void work_that_never_starts_fails_with_the_hint() throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Follow f = new Follow(
                new PrintStream(bytes, true, StandardCharsets.UTF_8), false, Duration.ofMillis(10), Duration.ZERO);
        assertEquals(1, f.follow("run R", Optional::empty, "see 'patchpilot dlq list schedules'"));
        assertEquals(
                "run R did not start within 0 s: see 'patchpilot dlq list schedules'\n",
                bytes.toString(StandardCharsets.UTF_8));
    }
}
