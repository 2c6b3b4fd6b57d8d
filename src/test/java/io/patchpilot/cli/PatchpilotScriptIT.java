package io.patchpilot.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./patchpilot entry point as a user runs it: exit codes, one-line errors, local mode lifecycle. */
class PatchpilotScriptIT {
    @TempDir
    Path dir;

    record Run(int exit, String stdout, String stderr) {}

    private static Run run(Map<String, String> env, List<String> unset, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(concat("./patchpilot", args));
        unset.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out, err);
    }

    private static List<String> concat(String first, String... rest) {
        List<String> l = new ArrayList<>(List.of(first));
        l.addAll(List.of(rest));
        return l;
    }

    @Test
    void bad_fleet_file_is_one_line_naming_file_line_and_key_and_exit_3() throws Exception {
        Path fleet = dir.resolve("fleet.yaml");
        Files.writeString(fleet, "accounts:\n  - id: \"111111111111\"\n    name: dev\n    regoins: {}\n");
        Run r = run(
                Map.of(),
                List.of(),
                "local",
                "--fleet",
                fleet.toString(),
                "--aws-port",
                Integer.toString(LocalAws.freePortPair()));
        assertEquals(ExitCode.CONFIG, r.exit());
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
        assertTrue(r.stderr().startsWith("patchpilot: " + fleet + ":4: unknown key 'regoins'"), r.stderr());
    }

    @Test
    void missing_setting_is_one_line_naming_the_key_and_exit_3() throws Exception {
        Run r = run(
                Map.of("PATCHPILOT_INVENTORY_BUCKET", "b1", "PATCHPILOT_REPORTS_BUCKET", "b2"),
                List.of("PATCHPILOT_EXTERNAL_ID"),
                "run");
        assertEquals(ExitCode.CONFIG, r.exit());
        assertEquals(
                "patchpilot: patchpilot.member.external-id: environment variable PATCHPILOT_EXTERNAL_ID is not set",
                r.stderr().strip());
    }

    @Test
    void help_on_every_command() throws Exception {
        for (String[] args :
                List.of(new String[] {"--help"}, new String[] {"run", "--help"}, new String[] {"local", "--help"})) {
            Run r = run(Map.of(), List.of(), args);
            assertEquals(0, r.exit());
            assertTrue(r.stdout().startsWith("Usage: patchpilot"), r.stdout());
        }
        assertEquals(ExitCode.USAGE, run(Map.of(), List.of(), "frobnicate").exit());
    }

    @Test
    void local_mode_becomes_healthy_refuses_a_second_copy_and_stops_everything_on_sigterm() throws Exception {
        int awsPort = LocalAws.freePortPair();
        int httpPort = LocalAws.freePort();
        Path log = dir.resolve("local.log");
        ProcessBuilder pb = new ProcessBuilder(
                        "./patchpilot",
                        "local",
                        "--aws-port",
                        Integer.toString(awsPort),
                        "--http-port",
                        Integer.toString(httpPort))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        long started = System.nanoTime();
        Process p = pb.start();
        try {
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(1))
                    .build();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = 0;
            while (System.nanoTime() < deadline && p.isAlive()) {
                try {
                    status = http.send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode();
                    if (status == 200) break;
                } catch (IOException notYet) {
                    // not listening yet
                }
                p.waitFor(250, TimeUnit.MILLISECONDS);
            }
            assertEquals(200, status, "healthy within 60 s; output:\n" + Files.readString(log));
            System.out.printf("patchpilot local healthy after %.1f s%n", (System.nanoTime() - started) / 1e9);
            // the banner follows /health by a moment: the service answers before start-up returns to print it
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertTrue(
                            Files.readString(log).contains("sqs list-queues"), "the banner says what to try"));
            // in a pipe the start-up stages are plain lines with their times, before the banner
            String output = Files.readString(log);
            assertTrue(
                    output.matches("(?s).*stacks deployed in \\d+\\.\\d s: 3/5 start-up stages\n.*"
                            + "service started in \\d+\\.\\d s: 5/5 start-up stages\n.*patchpilot local is up.*"),
                    output);

            Run second = run(
                    Map.of(),
                    List.of(),
                    "local",
                    "--aws-port",
                    Integer.toString(awsPort),
                    "--http-port",
                    Integer.toString(LocalAws.freePort()));
            assertEquals(ExitCode.ENVIRONMENT, second.exit());
            assertEquals(
                    "patchpilot: port " + awsPort + " on 127.0.0.1 is in use (is another 'patchpilot local' running?)",
                    second.stderr().strip());

            List<ProcessHandle> children = p.descendants().toList();
            assertTrue(children.size() >= 2, "moto and ElasticMQ run as child processes: " + children);
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stops on SIGTERM");
            for (ProcessHandle c : children) {
                c.onExit().get(15, TimeUnit.SECONDS);
                assertFalse(c.isAlive(), "child " + c.pid() + " left running");
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static {
        // the script lives at the project root; tests run from there
        if (!new File("patchpilot").canExecute()) throw new IllegalStateException("run from the project root");
    }
}
