package io.patchpilot.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.QueueDepth;
import io.patchpilot.console.Progress;
import io.patchpilot.console.ProgressPrinter;
import io.patchpilot.local.FleetFile;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.tagging.TagBatcher;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code patchpilot bench}: against the local AWS, each of patchpilot's figures next to its
 * baseline measured in the same run, printed as a table and written as JSON.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Benchmarks against the local AWS, each next to its baseline measured in the same run:",
            "  sqs      local SQS fill and receive+delete at a depth of --messages (the bar: 2,000 msg/s)",
            "  tagging  --events Config events for a generated fleet -> tags applied, vs the raw receive+delete rate",
            "  report   --report-accounts x 2 regions x --report-instances x --report-patches compliance items (1,000,000)",
            "           -> patch_compliance_report CSV in S3, vs DuckDB's own COPY of the same query; peak heap (give it -Xmx512m)",
            "  startup  'patchpilot local' launched -> /health 200, vs the bare local AWS start",
            "  patching the Default window fired over --patch-accounts x --patch-regions x --patch-instances with --latency-ms per AWS call:",
            "           fire -> every SendCommand sent, vs a plain SDK loop at the same concurrency and vs one account-region",
            "           after another; AWS calls against the minimum (not in the default run nor in 'all'; give it -Xmx512m)",
            "  soak     --soak-rate Config events/s and a Default window run every 2 minutes for --minutes against local mode;",
            "           heap after GC, threads, open files and the SQS backlog every minute; exit 1 when one grows steadily",
            "           (not in the default run nor in 'all')",
            "  all      sqs, tagging, report, startup"
        })
public final class BenchCommand implements Callable<Integer> {
    /** What {@code --only all} runs: everything but patching, which takes 10-15 minutes on its own. */
    static final List<String> ALL = List.of("sqs", "tagging", "report", "startup");

    @Option(
            names = "--only",
            split = ",",
            description = "sqs, tagging, report, startup, patching, soak, all (default: sqs,tagging)")
    List<String> only = List.of("sqs", "tagging");

    @Option(
            names = "--messages",
            defaultValue = "10000",
            description = "Queue depth for the sqs benchmark. Default: ${DEFAULT-VALUE}.")
    int messages;

    @Option(
            names = "--events",
            defaultValue = "10000",
            description = "Config events (one per instance). Default: ${DEFAULT-VALUE}.")
    int events;

    @Option(
            names = "--accounts",
            defaultValue = "25",
            description = "Generated member accounts. Default: ${DEFAULT-VALUE}.")
    int accounts;

    @Option(
            names = "--consumers",
            defaultValue = "8",
            description = "SQS consumers (patchpilot and baseline alike). Default: ${DEFAULT-VALUE}.")
    int consumers;

    @Option(
            names = "--patch-accounts",
            defaultValue = "200",
            description = "patching: generated member accounts. Default: ${DEFAULT-VALUE}.")
    int patchAccounts;

    @Option(
            names = "--patch-regions",
            split = ",",
            defaultValue = "us-east-1,eu-west-1,us-west-2,ap-southeast-2",
            description = "patching: regions (they become patchpilot.regions). Default: ${DEFAULT-VALUE}.")
    List<String> patchRegions;

    @Option(
            names = "--patch-instances",
            defaultValue = "20",
            description = "patching: instances per account-region. Default: ${DEFAULT-VALUE}.")
    int patchInstances;

    @Option(
            names = "--latency-ms",
            defaultValue = "50",
            description = "patching: latency injected on every AWS call. Default: ${DEFAULT-VALUE}.")
    int latencyMs;

    @Option(
            names = "--patch-rounds",
            defaultValue = "3",
            description =
                    "patching: rounds of patchpilot's dispatch and the plain loop, side by side; the medians are printed. Default: ${DEFAULT-VALUE}.")
    int patchRounds;

    @Option(
            names = "--sequential-accounts",
            defaultValue = "25",
            description =
                    "patching: accounts timed one account-region after another, extrapolated to all. Default: ${DEFAULT-VALUE}.")
    int sequentialAccounts;

    @Option(
            names = "--report-accounts",
            defaultValue = "20",
            description = "report: generated accounts (2 regions each). Default: ${DEFAULT-VALUE}.")
    int reportAccounts;

    @Option(
            names = "--report-instances",
            defaultValue = "250",
            description = "report: instances per account-region. Default: ${DEFAULT-VALUE}.")
    int reportInstances;

    @Option(
            names = "--report-patches",
            defaultValue = "100",
            description = "report: patch compliance items per instance. Default: ${DEFAULT-VALUE}.")
    int reportPatches;

    @Option(
            names = "--minutes",
            defaultValue = "30",
            description = "soak: how long, in minutes (a sample a minute). Default: ${DEFAULT-VALUE}.")
    int minutes;

    @Option(
            names = "--soak-rate",
            defaultValue = "20",
            description = "soak: Config events per second. Default: ${DEFAULT-VALUE}.")
    double soakRate;

    @Option(
            names = "--curve",
            description =
                    "patching, tagging: run at each of --curve-accounts / --curve-events and write the cost curve "
                            + "(time, AWS calls, peak heap against size) to target/bench/<name>-curve.svg and .md.")
    boolean curve;

    @Option(
            names = "--curve-accounts",
            split = ",",
            defaultValue = "50,100,200,400",
            description = "patching --curve: the accounts of each point. Default: ${DEFAULT-VALUE}.")
    List<Integer> curveAccounts;

    @Option(
            names = "--curve-events",
            split = ",",
            defaultValue = "2500,10000,40000",
            description = "tagging --curve: the Config events of each point. Default: ${DEFAULT-VALUE}.")
    List<Integer> curveEvents;

    @Option(
            names = "--json",
            defaultValue = "target/bench/bench.json",
            description = "Where the JSON goes. Default: ${DEFAULT-VALUE}.")
    Path json;

    private static final List<String> REGIONS = GeneratedFleet.REGIONS;

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(
                        System.getProperty("patchpilot.home", System.getenv().getOrDefault("PATCHPILOT_HOME", "")))
                .toAbsolutePath();
        List<String> selected = selected(only);
        if (selected.contains("report") && (reportAccounts < 1 || reportInstances < 1 || reportPatches < 1))
            throw new IllegalArgumentException("report needs accounts, instances and patches");
        if (selected.contains("patching") && (patchAccounts < 1 || patchInstances < 1 || patchRegions.isEmpty()))
            throw new IllegalArgumentException("patching needs accounts, regions and instances");
        // on stderr beside each benchmark's own figures; stdout keeps the table
        ProgressPrinter progress = ProgressPrinter.console(System.err);
        if (curve) return curve(selected, home);
        List<BenchResult> results = new ArrayList<>();
        // startup first (the order of selected): the JVMs it compares are then as cold as a user's
        for (int i = 0; i < selected.size(); i++) {
            String name = selected.get(i);
            progress.show(Progress.steps(name + " running", i, selected.size(), "benchmarks"));
            long started = System.nanoTime();
            results.addAll(run(name, home));
            String took = String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9);
            progress.show(Progress.steps(name + " done in " + took + " s", i + 1, selected.size(), "benchmarks"));
        }
        print(results);
        write(selected, results);
        return soakFailed ? 1 : 0;
    }

    private boolean soakFailed;

    /** {@code --curve}: patching and/or tagging at each size, then the table and the SVG of each. */
    private int curve(List<String> selected, Path home) throws Exception {
        if (!List.of("patching", "tagging").containsAll(selected))
            throw new IllegalArgumentException("--curve: only patching and tagging have a cost curve, not " + selected);
        Path dir = jsonPath().getParent();
        List<BenchResult> all = new ArrayList<>();
        for (String name : selected) {
            List<CostCurve.Point> points = new ArrayList<>();
            for (int size : name.equals("patching") ? curveAccounts : curveEvents) {
                double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
                if (name.equals("patching")) patchAccounts = size;
                else events = size;
                List<BenchResult> results = run(name, home);
                all.addAll(results);
                points.add(
                        name.equals("patching")
                                ? CostCurve.patching(size, results, load)
                                : CostCurve.tagging(size, results, load));
                // written after each point: a curve cut short still leaves what it measured
                CostCurve.write(
                        dir,
                        name + "-curve",
                        name.equals("patching")
                                ? "patching dispatch against accounts (x " + patchRegions.size() + " regions x "
                                        + patchInstances + " instances, " + latencyMs + " ms per call)"
                                : "tagging against Config events (" + accounts + " accounts x 2 regions)",
                        name.equals("patching") ? "accounts" : "Config events",
                        points);
            }
        }
        print(all);
        write(selected, all);
        return 0;
    }

    private List<BenchResult> run(String name, Path home) throws Exception {
        return switch (name) {
            case "soak" -> soak(home);
            case "startup" -> new StartupBench(home).run();
            case "sqs" -> sqs(home);
            case "tagging" -> tagging(home);
            case "report" ->
                new ReportBench(home, new ReportBench.Options(reportAccounts, reportInstances, reportPatches)).run();
            case "patching" ->
                new PatchingBench(
                                home,
                                new PatchingBench.Options(
                                        patchAccounts,
                                        patchRegions,
                                        patchInstances,
                                        latencyMs,
                                        sequentialAccounts,
                                        0.05,
                                        patchRounds))
                        .run();
            default -> throw new IllegalArgumentException("no benchmark " + name);
        };
    }

    /** The benchmarks named, {@code all} expanded, in a fixed order; an unknown name is an error naming the known ones. */
    static List<String> selected(List<String> only) {
        List<String> known = List.of("startup", "sqs", "tagging", "report", "patching", "soak");
        List<String> out = new ArrayList<>();
        for (String name : only) {
            String n = name.trim();
            if (n.equals("all")) out.addAll(ALL);
            else if (known.contains(n)) out.add(n);
            else
                throw new IllegalArgumentException(
                        "--only: '" + n + "' is not one of " + String.join(", ", known) + ", all");
        }
        return known.stream().filter(out::contains).toList();
    }

    private List<BenchResult> soak(Path home) throws Exception {
        if (minutes < 1 || soakRate <= 0)
            throw new IllegalArgumentException("soak needs --minutes >= 1 and --soak-rate > 0");
        SoakBench soak = new SoakBench(
                home,
                new SoakBench.Fleet(10, 10),
                new SoakBench.Options(
                        Duration.ofMinutes(minutes), Duration.ofMinutes(1), soakRate, Duration.ofMinutes(2)));
        List<BenchResult> results = soak.run();
        soakFailed = soak.failed();
        return results;
    }

    private List<BenchResult> sqs(Path home) throws Exception {
        try (LocalAws aws = LocalAws.start(home, LocalAws.freePortPair(), List.of());
                SqsClient sqs = sqsClient(aws.sqsEndpoint())) {
            String url = sqs.createQueue(r -> r.queueName("bench-depth")).queueUrl();
            List<String> bodies = new ArrayList<>();
            String pad = "x".repeat(760);
            for (int i = 0; i < messages; i++) bodies.add("{\"n\":" + i + ",\"pad\":\"" + pad + "\"}");
            int threads = 4;
            // warm both JVMs up first: the figure is the steady state, not the JIT's first minutes
            for (int round = 0; round < 2; round++) {
                SqsDrain.fill(sqs, url, bodies, threads);
                SqsDrain.drain(sqs, url, bodies.size(), threads);
            }
            double fill = SqsDrain.fill(sqs, url, bodies, threads);
            double drain = SqsDrain.drain(sqs, url, messages, threads);
            System.err.printf("sqs: fill %.0f msg/s, receive+delete %.0f msg/s at depth %d%n", fill, drain, messages);
            return List.of(
                    new BenchResult(
                            "local SQS receive+delete at depth " + messages,
                            "msg/s",
                            drain,
                            "required minimum",
                            2000,
                            Map.of("threads", threads)),
                    new BenchResult(
                            "local SQS send (batches of 10)",
                            "msg/s",
                            fill,
                            "required minimum",
                            2000,
                            Map.of("threads", threads)));
        }
    }

    private List<BenchResult> tagging(Path home) throws Exception {
        int perAccountRegion = Math.max(1, events / (accounts * REGIONS.size()));
        int total = perAccountRegion * accounts * REGIONS.size();
        FleetFile fleet = GeneratedFleet.fleet(accounts, perAccountRegion);
        Map<String, String> settings = Map.of("patchpilot.tagging.consumers", Integer.toString(consumers));
        long startedAt = System.nanoTime();
        try (LocalMode local = LocalMode.start(
                new LocalMode.Options(
                        home,
                        home.resolve("generated"),
                        LocalAws.freePortPair(),
                        LocalAws.freePort(),
                        // the bench puts its own Config events: the local AWS Config must not add more
                        List.of("--config-evaluation", "off"),
                        settings),
                fleet)) {
            System.err.printf(
                    "tagging: fleet of %d instances in %d accounts x %d regions loaded in %.0f s%n",
                    total, accounts, REGIONS.size(), (System.nanoTime() - startedAt) / 1e9);
            SqsClient sqs = local.aws().hub(SqsClient.class);
            List<String> bodies = GeneratedFleet.configEvents(local.aws(), fleet);

            // baseline: the same bodies through the same local SQS, plain receive + batch delete
            String rawUrl = sqs.createQueue(r -> r.queueName("bench-raw")).queueUrl();
            SqsDrain.fill(sqs, rawUrl, bodies, 4);
            double raw = SqsDrain.drain(sqs, rawUrl, bodies.size(), consumers);

            var routes = local.service().camel().getRouteController();
            routes.suspendRoute("config-events");
            String url = sqs.getQueueUrl(
                            r -> r.queueName(local.config().queues().configEvents()))
                    .queueUrl();
            SqsDrain.fill(sqs, url, bodies, 4);
            TagBatcher batcher =
                    local.service().camel().getRegistry().lookupByNameAndType("tagBatcher", TagBatcher.class);
            long taggedBefore = batcher.taggedCount();
            local.localAws().control().delete("calls");
            Heap.reset();
            long start = System.nanoTime();
            routes.resumeRoute("config-events");
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (batcher.taggedCount() - taggedBefore < bodies.size() || QueueDepth.of(sqs, url) > 0) {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("tagging did not finish in 10 minutes: "
                            + (batcher.taggedCount() - taggedBefore) + " of " + bodies.size());
                Thread.onSpinWait();
                LockSupport.parkNanos(2_000_000);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double heap = Heap.peakMiB();
            var callLog = local.localAws().control().get("calls");
            long calls = callLog.path("total").asLong();
            Map<String, Long> byOperation = new TreeMap<>();
            callLog.path("calls")
                    .forEach(c -> byOperation.merge(
                            c.path("service").asText() + ":"
                                    + c.path("operation").asText(),
                            c.path("count").asLong(),
                            Long::sum));
            System.err.println("tagging: AWS calls by operation " + byOperation);
            System.err.println("tagging: batcher " + batcher.stats());
            double rate = bodies.size() / seconds;
            System.err.printf(
                    "tagging: %d events in %.1f s = %.0f events/s (raw %.0f msg/s), %d AWS calls, peak heap %.0f MiB%n",
                    bodies.size(), seconds, rate, raw, calls, heap);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("events", bodies.size());
            extra.put("accounts", accounts);
            extra.put("regions", REGIONS.size());
            extra.put("consumers", consumers);
            extra.put("awsCalls", calls);
            extra.put("awsCallsPerEvent", (double) calls / bodies.size());
            extra.put("awsCallsByOperation", byOperation);
            extra.put("peakHeapMiB", heap);
            return List.of(
                    new BenchResult(
                            "Config events -> tags applied",
                            "events/s",
                            rate,
                            "raw receive+delete, same SQS",
                            raw,
                            extra),
                    new BenchResult(
                            "AWS calls per event", "calls", (double) calls / bodies.size(), "target", 0.2, Map.of()),
                    new BenchResult("peak heap while tagging", "MiB", heap, "target", 256, Map.of()));
        }
    }

    private static SqsClient sqsClient(URI endpoint) {
        return SqsClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .build();
    }

    private static void print(List<BenchResult> results) {
        System.out.printf("%n| benchmark | patchpilot | baseline (same run) | ratio |%n|---|---|---|---|%n");
        for (BenchResult r : results) {
            System.out.printf(
                    "| %s | %.2f %s | %s: %.2f | %.2f |%n",
                    r.name(), r.ours(), r.unit(), r.baselineName(), r.baseline(), r.ratio());
        }
        System.out.printf(
                "(%d cores, load average %.2f, max heap %d MiB, Java %s)%n",
                Runtime.getRuntime().availableProcessors(),
                StartupBench.loadAverage(),
                Runtime.getRuntime().maxMemory() / (1024 * 1024),
                System.getProperty("java.version"));
    }

    /** --json, a relative path taken from the project's home. */
    private Path jsonPath() {
        return json.isAbsolute()
                ? json
                : Path.of(System.getenv().getOrDefault("PATCHPILOT_HOME", ""))
                        .toAbsolutePath()
                        .resolve(json);
    }

    private void write(List<String> selected, List<BenchResult> results) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("date", Instant.now().toString());
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("maxHeapMiB", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        root.put("javaVersion", System.getProperty("java.version"));
        root.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        root.set("benchmarks", mapper.valueToTree(selected));
        ArrayNode arr = root.putArray("results");
        for (BenchResult r : results) {
            ObjectNode n = arr.addObject();
            n.put("name", r.name())
                    .put("unit", r.unit())
                    .put("ours", r.ours())
                    .put("baselineName", r.baselineName())
                    .put("baseline", r.baseline())
                    .put("ratio", r.ratio());
            n.set("extra", mapper.valueToTree(r.extra()));
        }
        Path out = jsonPath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, mapper.writeValueAsString(root));
        System.out.println("JSON: " + out);
    }
}
