package io.patchpilot.bench;

import io.patchpilot.local.LocalAws;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code patchpilot bench --only startup}: {@code patchpilot local} launched as a process of its
 * own (a new JVM, as a user starts it) until its {@code /health} answers 200, next to the bare
 * local AWS start ({@link LocalAws#start}) in the same run: the difference is patchpilot's own
 * share (JVM start, hub provisioning, loading the fleet, starting the routes).
 */
final class StartupBench {
    private final Path home;

    StartupBench(Path home) {
        this.home = home;
    }

    List<BenchResult> run() throws Exception {
        long t0 = System.nanoTime();
        try (LocalAws aws = LocalAws.start(home, LocalAws.freePortPair(), List.of())) {
            // the figure is the time until it answers; closing it is not timed
        }
        double bare = (System.nanoTime() - t0) / 1e9;

        int awsPort = LocalAws.freePortPair();
        int httpPort = LocalAws.freePort();
        Path log = Files.createTempFile("patchpilot-bench-local-", ".log");
        List<String> command =
                new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.addAll(List.of(System.getenv()
                .getOrDefault("PATCHPILOT_JAVA_OPTS", "-Xmx512m")
                .trim()
                .split("\\s+")));
        command.addAll(List.of(
                "-jar",
                home.resolve("target/patchpilot.jar").toString(),
                "local",
                "--aws-port",
                Integer.toString(awsPort),
                "--http-port",
                Integer.toString(httpPort)));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("PATCHPILOT_HOME", home.toString());
        long s0 = System.nanoTime();
        Process p = pb.start();
        try {
            awaitHealthy(p, httpPort, log);
            double startup = (System.nanoTime() - s0) / 1e9;
            System.err.printf(
                    "startup: patchpilot local healthy in %.1f s, bare local AWS start %.1f s%n", startup, bare);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("command", "java -jar target/patchpilot.jar local (default fleet config/local/fleet.yaml)");
            extra.put("bareLocalAwsSeconds", bare);
            extra.put("patchpilotShareSeconds", startup - bare);
            return List.of(new BenchResult(
                    "patchpilot local: launch -> /health 200 (new JVM, local AWS, hub provisioning, fleet, routes)",
                    "s",
                    startup,
                    "bare local AWS start (moto + ElasticMQ ready, LocalAws.start)",
                    bare,
                    extra));
        } finally {
            stop(p);
            Files.deleteIfExists(log);
        }
    }

    private static void awaitHealthy(Process p, int httpPort, Path log) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                .timeout(Duration.ofSeconds(2))
                .build();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive())
                throw new IllegalStateException(
                        "patchpilot local exited with " + p.exitValue() + ":\n" + Files.readString(log));
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            LockSupport.parkNanos(50_000_000);
        }
        throw new IllegalStateException("patchpilot local was not healthy in 5 minutes:\n" + Files.readString(log));
    }

    /** As Ctrl-C does (its shutdown hook stops the local AWS); forcibly, with what it started, if it hangs. */
    private static void stop(Process p) throws InterruptedException {
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            children.forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
