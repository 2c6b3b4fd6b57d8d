package io.patchpilot.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.UnixOperatingSystemMXBean;
import io.patchpilot.aws.QueueDepth;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.local.FleetFile;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToDoubleFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * {@code patchpilot bench --only soak --minutes N}: Config events at a steady rate and a Default
 * window run every {@link Options#windowEvery()} for N minutes against local mode (the service in
 * this JVM). Once a minute: heap after a full GC, live threads and open files of this JVM, and the
 * backlog of the service's queues (visible + in flight). It fails when one of them grows steadily
 * ({@link SoakTrend}).
 */
public final class SoakBench {
    /** Absolute growth over the judged span below which a figure is never called a leak. */
    static final double HEAP_FLOOR_MIB = 16;

    static final double THREADS_FLOOR = 5;
    static final double FILES_FLOOR = 10;
    static final double BACKLOG_FLOOR = 200;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code windowEvery} zero: no window runs, Config events only. */
    public record Options(Duration length, Duration sampleEvery, double eventsPerSecond, Duration windowEvery) {
        int samples() {
            return (int) (length.toMillis() / sampleEvery.toMillis());
        }
    }

    /** One sample; {@code minute} counts samples (a sample a minute in the bench). */
    public record Sample(
            int minute,
            double heapMiB,
            int threads,
            long openFiles,
            long backlog,
            long deadLetters,
            long eventsSent,
            int runsFired,
            double localAwsRssMiB,
            double load) {}

    public record Outcome(List<Sample> samples, List<SoakTrend> trends) {
        public boolean failed() {
            return trends.stream().anyMatch(SoakTrend::grows);
        }
    }

    /** The generated fleet: accounts × 2 regions × instances, tagged for the Default window. */
    record Fleet(int accounts, int instances) {}

    private final Path home;
    private final Fleet fleet;
    private final Options o;
    private boolean failed;

    SoakBench(Path home, Fleet fleet, Options o) {
        this.home = home;
        this.fleet = fleet;
        this.o = o;
    }

    boolean failed() {
        return failed;
    }

    List<BenchResult> run() throws Exception {
        FleetFile fleetFile = PatchingBench.fleet(fleet.accounts(), GeneratedFleet.REGIONS, fleet.instances());
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("patchpilot.regions", String.join(",", GeneratedFleet.REGIONS));
        // the hub stack's daily reconcile and report must not fire in the middle of a soak
        settings.put(LocalMode.STACK_PARAMETER + "ReconcileSchedule", "rate(3650 days)");
        settings.put(LocalMode.STACK_PARAMETER + "ReportSchedule", "rate(3650 days)");
        settings.put(
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-soak-outbox").toString());
        try (LocalMode local = LocalMode.start(
                new LocalMode.Options(
                        home,
                        home.resolve("generated"),
                        LocalAws.freePortPair(),
                        LocalAws.freePort(),
                        List.of("--command-delay", "0.5", "--config-evaluation", "off"),
                        settings),
                fleetFile)) {
            List<String> events = GeneratedFleet.configEvents(local.aws(), fleetFile);
            System.err.printf(
                    Locale.ROOT,
                    "soak: %d instances (%d accounts x %d regions x %d), %.0f Config events/s, a Default window run every %d s, "
                            + "a sample every %d s for %d samples%n",
                    events.size(),
                    fleet.accounts(),
                    GeneratedFleet.REGIONS.size(),
                    fleet.instances(),
                    o.eventsPerSecond(),
                    o.windowEvery().toSeconds(),
                    o.sampleEvery().toSeconds(),
                    o.samples());
            Outcome out = soak(local, events, o, System.err);
            failed = out.failed();
            return results(out);
        }
    }

    private List<BenchResult> results(Outcome out) {
        List<BenchResult> results = new ArrayList<>();
        Map<String, Object> samples = new LinkedHashMap<>();
        samples.put("samples", out.samples());
        samples.put("eventsPerSecond", o.eventsPerSecond());
        samples.put("windowEverySeconds", o.windowEvery().toSeconds());
        samples.put("accounts", fleet.accounts());
        samples.put("regions", GeneratedFleet.REGIONS);
        samples.put("instancesPerAccountRegion", fleet.instances());
        boolean first = true;
        for (SoakTrend t : out.trends()) {
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("fromMinute", t.fromMinute());
            extra.put("toMinute", t.toMinute());
            extra.put("growth", t.growth());
            extra.put("start", t.start());
            extra.put("r2", t.r2());
            extra.put("grows", t.grows());
            if (first) extra.putAll(samples);
            first = false;
            results.add(new BenchResult(
                    "soak: " + t.metric() + " per minute after the warm-up (" + (t.grows() ? "GROWS" : "steady") + ")",
                    t.unit() + "/min",
                    t.slopePerMinute(),
                    "floor over the span, " + t.unit(),
                    t.floor(),
                    extra));
        }
        return results;
    }

    /**
     * Puts {@code events} (fresh ids each time round) on the Config events queue at the options'
     * rate and fires successive occurrences of the Default window, sampling as it goes; prints a
     * line per sample and the verdict on {@code err}.
     */
    public static Outcome soak(LocalMode local, List<String> events, Options o, PrintStream err) {
        if (events.isEmpty()) throw new IllegalArgumentException("soak: no instances to send Config events for");
        SqsClient sqs = local.aws().hub(SqsClient.class);
        PatchpilotConfig.Queues queues = local.config().queues();
        List<String> urls = new ArrayList<>();
        List<String> dlqUrls = new ArrayList<>();
        for (String q : queues.all()) {
            urls.add(sqs.getQueueUrl(r -> r.queueName(q)).queueUrl());
            dlqUrls.add(sqs.getQueueUrl(r -> r.queueName(PatchpilotConfig.Queues.deadLetterQueueOf(q)))
                    .queueUrl());
        }
        String configUrl = urls.get(queues.all().indexOf(queues.configEvents()));
        String schedulesUrl = urls.get(queues.all().indexOf(queues.schedules()));
        List<String[]> targets = events.stream().map(SoakBench::target).toList();
        MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
        // occurrences far ahead of any other run of the window (a test may fire the next one)
        Instant occurrence = Instant.now().plus(Duration.ofDays(366));

        List<Sample> samples = new ArrayList<>();
        long sent = 0;
        int runs = 0;
        int samplesWanted = o.samples();
        long start = System.nanoTime();
        long nextWindow = 0;
        long nextSample = o.sampleEvery().toNanos();
        List<SendMessageBatchRequestEntry> batch = new ArrayList<>();
        while (samples.size() < samplesWanted) {
            long now = System.nanoTime() - start;
            if (!o.windowEvery().isZero() && now >= nextWindow) {
                occurrence = WindowSchedule.nextOpening(window, occurrence.plusSeconds(60))
                        .orElseThrow();
                String fire = "{\"type\":\"window-fire\",\"window\":\"" + window.name() + "\",\"time\":\"" + occurrence
                        + "\"}";
                sqs.sendMessage(r -> r.queueUrl(schedulesUrl).messageBody(fire));
                runs++;
                nextWindow += o.windowEvery().toNanos();
            }
            long due = (long) (o.eventsPerSecond() * now / 1e9);
            while (sent < due) {
                String[] t = targets.get((int) (sent % targets.size()));
                batch.add(SendMessageBatchRequestEntry.builder()
                        .id(Long.toString(sent))
                        .messageBody(GeneratedFleet.configEvent(t[0], t[1], t[2]))
                        .build());
                sent++;
                if (batch.size() == 10 || sent == due) {
                    sqs.sendMessageBatch(SendMessageBatchRequest.builder()
                            .queueUrl(configUrl)
                            .entries(batch)
                            .build());
                    batch.clear();
                }
            }
            if (now >= nextSample) {
                Sample s = sample(samples.size() + 1, local, sqs, urls, dlqUrls, sent, runs);
                samples.add(s);
                err.printf(
                        Locale.ROOT,
                        "soak: minute %d/%d: heap after GC %.1f MiB, threads %d, open files %d, backlog %d (DLQs %d); "
                                + "events %d, window runs %d; local AWS RSS %.0f MiB, load %.2f%n",
                        s.minute(),
                        samplesWanted,
                        s.heapMiB(),
                        s.threads(),
                        s.openFiles(),
                        s.backlog(),
                        s.deadLetters(),
                        s.eventsSent(),
                        s.runsFired(),
                        s.localAwsRssMiB(),
                        s.load());
                nextSample += o.sampleEvery().toNanos();
            }
            LockSupport.parkNanos(50_000_000L);
        }
        List<SoakTrend> trends = trends(samples);
        for (SoakTrend t : trends) err.println("soak: " + t.describe());
        Outcome out = new Outcome(samples, trends);
        if (out.failed()) {
            err.println("soak: FAILED: "
                    + String.join(
                            "; ",
                            trends.stream()
                                    .filter(SoakTrend::grows)
                                    .map(SoakTrend::metric)
                                    .toList())
                    + " grew steadily (the lines above say by how much)");
        } else {
            err.println("soak: passed: nothing grew steadily over " + samples.size() + " samples");
        }
        return out;
    }

    static List<SoakTrend> trends(List<Sample> samples) {
        return List.of(
                trend("heap after GC", "MiB", samples, Sample::heapMiB, HEAP_FLOOR_MIB),
                trend("threads", "threads", samples, s -> s.threads(), THREADS_FLOOR),
                trend("open files", "files", samples, s -> s.openFiles(), FILES_FLOOR),
                trend("SQS backlog", "messages", samples, s -> s.backlog(), BACKLOG_FLOOR));
    }

    private static SoakTrend trend(
            String metric, String unit, List<Sample> samples, ToDoubleFunction<Sample> f, double floor) {
        return SoakTrend.of(metric, unit, samples.stream().map(f::applyAsDouble).toList(), floor);
    }

    private static Sample sample(
            int minute, LocalMode local, SqsClient sqs, List<String> urls, List<String> dlqUrls, long sent, int runs) {
        System.gc();
        double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
        int threads = ManagementFactory.getThreadMXBean().getThreadCount();
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        long files = os instanceof UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : -1;
        long backlog = 0;
        for (String url : urls) backlog += QueueDepth.of(sqs, url);
        long dead = 0;
        for (String url : dlqUrls) dead += QueueDepth.of(sqs, url);
        return new Sample(
                minute,
                heap,
                threads,
                files,
                backlog,
                dead,
                sent,
                runs,
                localAwsRssMiB(local),
                os.getSystemLoadAverage());
    }

    /** The local AWS's resident memory (moto keeps every resource in memory); NaN off Linux. */
    private static double localAwsRssMiB(LocalMode local) {
        double kib = 0;
        for (long pid : local.localAws().pids()) {
            Path status = Path.of("/proc", Long.toString(pid), "status");
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmRSS:")) kib += Double.parseDouble(line.replaceAll("[^0-9]", ""));
                }
            } catch (IOException | NumberFormatException e) {
                return Double.NaN;
            }
        }
        return kib / 1024.0;
    }

    /** account, region, instance id of a Config event body. */
    private static String[] target(String body) {
        try {
            JsonNode detail = JSON.readTree(body).path("detail");
            return new String[] {
                detail.path("awsAccountId").asText(),
                detail.path("awsRegion").asText(),
                detail.path("resourceId").asText()
            };
        } catch (IOException e) {
            throw new IllegalArgumentException("soak: not a Config event: " + body, e);
        }
    }
}
