package io.patchpilot.acceptance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.local.LocalAws;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop and start {@code patchpilot local} at once, as a user does: the stop reaches the whole
 * process group (as a terminal's Ctrl-C or a supervisor's stop does), the service stops polling
 * before the local AWS goes (no {@code Error while polling} in its output), and a start on the
 * same ports within five seconds succeeds though the stopped servers left connections in TIME-WAIT.
 */
class LocalRestartIT {
    private static final Duration HEALTHY_WITHIN = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    @Test
    void local_mode_stopped_starts_again_at_once_on_the_same_ports_and_stops_without_polling_errors() throws Exception {
        int awsPort = LocalAws.freePortPair();
        int httpPort = LocalAws.freePort();
        Path firstLog = dir.resolve("first.log");
        Path secondLog = dir.resolve("second.log");

        Path state = dir.resolve("state"); // the second start resumes the first's state (no redeploy)
        Process first = start(awsPort, httpPort, firstLog, state);
        Process second = null;
        try {
            awaitHealthy(first, httpPort, firstLog);
            signalGroup(first, "TERM");
            assertTrue(first.waitFor(90, TimeUnit.SECONDS), "the first run stops on SIGTERM");
            long stopped = System.nanoTime();
            System.out.printf(
                    "local restart: after the stop, %d sockets in TIME-WAIT on the AWS and SQS ports%n",
                    timeWait(awsPort) + timeWait(awsPort + 1));

            second = start(awsPort, httpPort, secondLog, state);
            double gap = (System.nanoTime() - stopped) / 1e9;
            assertTrue(gap < 5, "started again " + gap + " s after the stop");
            awaitHealthy(second, httpPort, secondLog);
            System.out.printf("local restart: started again %.1f s after the stop, healthy%n", gap);
            second.destroy(); // SIGTERM to local mode alone
            assertTrue(second.waitFor(90, TimeUnit.SECONDS), "the second run stops on SIGTERM");

            for (Path log : List.of(firstLog, secondLog)) {
                String out = Files.readString(log, StandardCharsets.UTF_8);
                assertTrue(out.contains("patchpilot: stopping"), log + " shows the stop:\n" + out);
                List<String> pollingErrors = out.lines()
                        .filter(l -> l.contains("ERROR") && l.contains("Error while polling"))
                        .toList();
                assertEquals(List.of(), pollingErrors, log + ": a clean stop logs no polling error");
            }
        } finally {
            for (Process p : new Process[] {first, second}) {
                if (p == null) continue;
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    /** In a session of its own (setsid), so its PID is its process group's and the test's group is apart. */
    private static Process start(int awsPort, int httpPort, Path log, Path state) throws IOException {
        return new ProcessBuilder(
                        "setsid",
                        "./patchpilot",
                        "local",
                        "--aws-port",
                        Integer.toString(awsPort),
                        "--http-port",
                        Integer.toString(httpPort),
                        "--state-dir",
                        state.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static void signalGroup(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, "--", "-" + p.pid())
                .inheritIO()
                .start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " -" + p.pid());
    }

    private static void awaitHealthy(Process p, int httpPort, Path log) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + HEALTHY_WITHIN.toNanos();
        while (System.nanoTime() < deadline && p.isAlive()) {
            try {
                int status = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                                        .timeout(Duration.ofSeconds(2))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                if (status == 200 && Files.readString(log).contains("sqs list-queues")) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            p.waitFor(250, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("local mode not healthy within " + HEALTHY_WITHIN.toSeconds() + " s; output:\n"
                + Files.readString(log));
    }

    /** Connections in TIME-WAIT whose local port is {@code port} ({@code ss}); -1 without ss. */
    private static long timeWait(int port) {
        try {
            Process ss = new ProcessBuilder("ss", "-Htan", "state", "time-wait", "sport", "= :" + port)
                    .redirectErrorStream(true)
                    .start();
            String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return ss.waitFor() == 0 ? out.lines().filter(l -> !l.isBlank()).count() : -1;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    static {
        // the script lives at the project root; tests run from there
        if (!new File("patchpilot").canExecute()) throw new IllegalStateException("run from the project root");
    }
}
