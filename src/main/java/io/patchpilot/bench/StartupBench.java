package io.patchpilot.bench;

import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** The start-up stage lines {@code patchpilot local} prints in a pipe, e.g. {@code fleet loaded in 2.0 s: 4/5 start-up stages}. */
    private static final Pattern STAGE = Pattern.compile("^(.+) in ([0-9.]+) s: \\d+/\\d+ start-up stages$");

    static final int RUNS = 3;
    static final String BEFORE_STAGES = "JVM start + command line";

    List<BenchResult> run() throws Exception {
        List<Double> bares = new ArrayList<>();
        List<Double> startups = new ArrayList<>();
        Map<String, List<Double>> stages = new LinkedHashMap<>();
        List<Double> loads = new ArrayList<>();
        for (int run = 1; run <= RUNS; run++) {
            loads.add(loadAverage());
            long t0 = System.nanoTime();
            try (LocalAws aws = LocalAws.start(home, LocalAws.freePortPair(), List.of())) {
                // the figure is the time until it answers; closing it is not timed
            }
            double bare = (System.nanoTime() - t0) / 1e9;
            Launch launch = launch();
            bares.add(bare);
            startups.add(launch.seconds());
            launch.stages()
                    .forEach((k, v) ->
                            stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            System.err.printf(
                    Locale.ROOT,
                    "startup run %d/%d: patchpilot local healthy in %.1f s, bare local AWS start %.1f s, stages %s (load average %.2f)%n",
                    run,
                    RUNS,
                    launch.seconds(),
                    bare,
                    launch.stages(),
                    loads.get(loads.size() - 1));
        }
        double startup = median(startups);
        double bare = median(bares);
        Map<String, Double> breakdown = new LinkedHashMap<>();
        stages.forEach((k, v) -> breakdown.put(k, median(v)));
        System.err.printf(
                Locale.ROOT,
                "startup (median of %d): healthy in %.1f s, bare local AWS %.1f s, patchpilot's share %.1f s; stages %s%n",
                RUNS,
                startup,
                bare,
                startup - bare,
                breakdown);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("command", "java -jar target/patchpilot.jar local (default fleet config/local/fleet.yaml)");
        extra.put("runs", RUNS);
        extra.put("startupSeconds", startups);
        extra.put("bareLocalAwsSeconds", bares);
        extra.put("patchpilotShareSeconds", startup - bare);
        extra.put("stageSecondsMedian", breakdown);
        extra.put("loadAverage", loads);
        return List.of(new BenchResult(
                "patchpilot local: launch -> /health 200 (new JVM, local AWS, hub provisioning, fleet, routes; median of "
                        + RUNS + ")",
                "s",
                startup,
                "bare local AWS start (moto + ElasticMQ ready, LocalAws.start)",
                bare,
                extra));
    }

    /** One launch: seconds to /health 200, and each start-up stage's own seconds as it printed them. */
    private record Launch(double seconds, Map<String, Double> stages) {}

    private Launch launch() throws Exception {
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
            double seconds = (System.nanoTime() - s0) / 1e9;
            // /health answers as the routes start, a moment before the last stage's line is printed
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            Map<String, Double> stages = stages(Files.readAllLines(log));
            while (stages.size() < LocalMode.STAGES.size() && System.nanoTime() < deadline && p.isAlive()) {
                LockSupport.parkNanos(50_000_000);
                stages = stages(Files.readAllLines(log));
            }
            // what no stage's clock covers: the JVM's start and the command line, before the first stage
            Map<String, Double> all = new LinkedHashMap<>();
            all.put(
                    BEFORE_STAGES,
                    seconds
                            - stages.values().stream()
                                    .mapToDouble(Double::doubleValue)
                                    .sum());
            all.putAll(stages);
            return new Launch(seconds, all);
        } finally {
            stop(p);
            Files.deleteIfExists(log);
        }
    }

    /** Each stage's seconds from the launch's output, in order. */
    static Map<String, Double> stages(List<String> output) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : output) {
            Matcher m = STAGE.matcher(line.strip());
            if (m.matches()) out.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return out;
    }

    /** The machine's load average over the last minute (the bench shares its cores with whatever else runs). */
    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
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
