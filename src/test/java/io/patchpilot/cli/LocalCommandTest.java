package io.patchpilot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.console.ProgressPrinter;
import io.patchpilot.local.LocalMode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** 'patchpilot local' in a pipe: one line per start-up stage, with the time that stage took. */
class LocalCommandTest {
    @Test
    void each_stage_is_a_line_with_its_own_time() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // nanoTime at the start, then as each of the five stages is done
        Deque<Long> clock = new ArrayDeque<>(
                List.of(0L, 4_200_000_000L, 4_500_000_000L, 25_000_000_000L, 27_000_000_000L, 30_100_000_000L));
        Consumer<String> stages = LocalCommand.stages(
                new ProgressPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), false), clock::poll);
        LocalMode.STAGES.forEach(stages);
        assertEquals("""
                local AWS up in 4.2 s: 1/5 start-up stages
                organization created in 0.3 s: 2/5 start-up stages
                stacks deployed in 20.5 s: 3/5 start-up stages
                fleet loaded in 2.0 s: 4/5 start-up stages
                service started in 3.1 s: 5/5 start-up stages
                """, bytes.toString(StandardCharsets.UTF_8));
    }
}
