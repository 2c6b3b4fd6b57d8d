package io.patchpilot.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.ami.AmiRefreshes;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.QueueDepth;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.FleetFile;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.organizations.model.AccountStatus;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code patchpilot bench --only patching}: the Default window fired over a generated fleet with
 * latency injected on every AWS call, timed from the fire message to the moment every
 * account-region of the run has sent its commands (left state Discovering in the ledger), next to
 * (b) the same minimal calls made by a plain SDK loop at patchpilot's concurrency and (c) one
 * account-region after another on one thread; (d) the AWS calls patchpilot made against the minimum.
 */
final class PatchingBench {
    /** The member-side operations of a dispatch; everything else in the call log is bookkeeping. */
    private static final Set<String> DISPATCH_OPERATIONS = Set.of(
            "sts:AssumeRole",
            "autoscaling:DescribeAutoScalingGroups",
            "ec2:DescribeInstances",
            "ssm:DescribeInstanceInformation",
            "ssm:ListCommands",
            "ssm:SendCommand");

    private static final int IDS_PER_CALL = 50;
    private static final String PLAIN_JOB = "bench-plain";
    private static final String SEQUENTIAL_JOB = "bench-sequential";

    record Options(
            int accounts,
            List<String> regions,
            int instances,
            int latencyMs,
            int sequentialAccounts,
            double commandDelay,
            int rounds) {}

    private final Path home;
    private final Options o;

    PatchingBench(Path home, Options o) {
        this.home = home;
        this.o = o;
    }

    List<BenchResult> run() throws Exception {
        FleetFile fleet = fleet(o.accounts(), o.regions(), o.instances());
        Map<String, String> settings = Map.of("patchpilot.regions", String.join(",", o.regions()));
        List<String> launcher =
                List.of("--command-delay", Double.toString(o.commandDelay()), "--config-evaluation", "off");
        long loadStart = System.nanoTime();
        try (LocalMode local = LocalMode.start(
                new LocalMode.Options(
                        home,
                        home.resolve("generated"),
                        LocalAws.freePortPair(),
                        LocalAws.freePort(),
                        launcher,
                        settings),
                fleet)) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            int instancesTotal = local.fleet().instances();
            System.err.printf(
                    "patching: fleet of %d instances (%d accounts x %d regions x %d) loaded, service started in %.0f s%n",
                    instancesTotal, o.accounts(), o.regions().size(), o.instances(), loadSeconds);
            int concurrency = workConsumers(local);
            MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
            List<AccountRegion> scope = scope(local);
            Map<String, Long> minimum = minimum(scope, o.instances(), AmiRefreshes.includes(window));
            long minimumTotal =
                    minimum.values().stream().mapToLong(Long::longValue).sum();
            System.err.printf(
                    "patching: %d account-regions in scope (the hub's included), work-route consumers %d, minimum calls %d %s%n",
                    scope.size(), concurrency, minimumTotal, minimum);

            local.localAws()
                    .control()
                    .post(
                            "faults",
                            Map.of(
                                    "rules",
                                    List.of(Map.of("service", "*", "operation", "*", "latencyMs", o.latencyMs()))));
            try {
                // (c) first: one account-region after another on a subset; it also warms the SDK paths for all three
                List<AccountRegion> subset = subset(scope, o.sequentialAccounts());
                local.localAws().control().delete("calls");
                double cpu = localAwsCpu(local);
                long start = System.nanoTime();
                PlainDispatch.Sent seqSent = PlainDispatch.run(
                        local.aws(),
                        subset,
                        window,
                        SEQUENTIAL_JOB,
                        "bench sequential",
                        local.config().buckets().logs(),
                        1);
                double subsetSeconds = (System.nanoTime() - start) / 1e9;
                double seqBusy = (localAwsCpu(local) - cpu) / subsetSeconds;
                double sequential = subsetSeconds * memberTargets(scope) / Math.max(1, memberTargets(subset));
                boolean extrapolated = subset.size() < scope.size();
                System.err.printf(
                        "patching: (c) sequential: %d account-regions, %d commands in %.1f s (local AWS CPU busy %.0f%%)%s%n",
                        seqSent.targets(),
                        seqSent.commands(),
                        subsetSeconds,
                        100 * seqBusy,
                        extrapolated
                                ? String.format(
                                        " -> %.0f s for all %d (extrapolated per member account-region)",
                                        sequential, scope.size())
                                : "");

                // (a) patchpilot and (b) the plain SDK loop at patchpilot's concurrency, side by side, o.rounds() times
                List<Dispatch> as = new ArrayList<>();
                List<Double> plains = new ArrayList<>();
                List<Double> ratios = new ArrayList<>();
                List<Double> aBusies = new ArrayList<>();
                List<Double> plainBusies = new ArrayList<>();
                List<String> loads = new ArrayList<>();
                Map<String, Long> bCalls = Map.of();
                String lastMinute = "";
                for (int round = 1; round <= Math.max(1, o.rounds()); round++) {
                    loads.add(loadAverage());
                    cpu = localAwsCpu(local);
                    Dispatch a = patchpilot(local, window, scope, minimum, round, lastMinute);
                    lastMinute = a.minute();
                    double aBusy = (a.localAwsCpuAtEnd() - cpu) / a.seconds();
                    System.err.printf(
                            "patching: round %d (a) patchpilot: every SendCommand sent %.1f s after the %s (local AWS CPU busy %.0f%%), "
                                    + "run complete after %.1f s; targets %s%n",
                            round, a.seconds(), a.trigger(), 100 * aBusy, a.runSeconds(), a.targetStates());
                    System.err.println("patching: round " + round
                            + " (a) AWS calls while dispatching, by operation (the bench's own " + a.ledgerPolls()
                            + " ledger polls taken out): " + a.calls());

                    // (b) after the run of (a) has completed
                    local.localAws().control().delete("calls");
                    cpu = localAwsCpu(local);
                    start = System.nanoTime();
                    PlainDispatch.Sent plainSent = PlainDispatch.run(
                            local.aws(),
                            scope,
                            window,
                            PLAIN_JOB,
                            "bench plain",
                            local.config().buckets().logs(),
                            concurrency);
                    double plain = (System.nanoTime() - start) / 1e9;
                    double plainBusy = (localAwsCpu(local) - cpu) / plain;
                    bCalls = callsByOperation(local);
                    System.err.printf(
                            "patching: round %d (b) plain SDK loop, %d threads: %d commands to %d instances in %.1f s (local AWS CPU busy %.0f%%); calls %s%n",
                            round,
                            concurrency,
                            plainSent.commands(),
                            plainSent.instances(),
                            plain,
                            100 * plainBusy,
                            bCalls);
                    if (!bCalls.equals(minimum))
                        System.err.println("patching: WARNING (b) did not make exactly the minimal calls " + minimum);
                    loads.set(loads.size() - 1, loads.get(loads.size() - 1) + " -> " + loadAverage());
                    System.err.printf(
                            "patching: round %d (a)/(b) %.2f, load average %s%n",
                            round, a.seconds() / plain, loads.get(loads.size() - 1));
                    as.add(a);
                    plains.add(plain);
                    ratios.add(a.seconds() / plain);
                    aBusies.add(aBusy);
                    plainBusies.add(plainBusy);
                }
                Dispatch a = as.get(as.size() / 2);
                Map<String, Long> aCalls = a.calls();
                long aMember = median(as.stream()
                                .map(d -> (double) sum(d.calls(), DISPATCH_OPERATIONS))
                                .toList())
                        .longValue();
                long aAll = median(as.stream()
                                .map(d -> (double) d.calls().values().stream()
                                        .mapToLong(Long::longValue)
                                        .sum())
                                .toList())
                        .longValue();
                double aSeconds = median(as.stream().map(Dispatch::seconds).toList());
                double plain = median(plains);
                double ratio = median(ratios);
                double aBusy = median(aBusies);
                double plainBusy = median(plainBusies);
                double speedUp = sequential / aSeconds;
                double peakHeap =
                        as.stream().mapToDouble(Dispatch::peakHeapMiB).max().orElse(0);
                System.err.printf(
                        "patching: medians of %d rounds: (a) %.1f s, (b) %.1f s, (a)/(b) %.2f (rounds %s; target <= 1.15), "
                                + "speed-up (c)/(a) %.1fx, member calls %d / minimum %d = %.2f (target <= 1.05), "
                                + "all calls %d / minimum = %.2f (target <= 1.5), peak heap %.0f MiB, load average (1, 5, 15 min) by round %s%n",
                        as.size(),
                        aSeconds,
                        plain,
                        ratio,
                        ratios.stream().map(r -> String.format("%.2f", r)).toList(),
                        speedUp,
                        aMember,
                        minimumTotal,
                        (double) aMember / minimumTotal,
                        aAll,
                        (double) aAll / minimumTotal,
                        peakHeap,
                        loads);

                String fleetText = String.format(
                        "%d accounts x %d regions x %d instances, %d ms per AWS call, %d consumers",
                        o.accounts(), o.regions().size(), o.instances(), o.latencyMs(), concurrency);
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("accounts", o.accounts());
                extra.put("regions", o.regions());
                extra.put("instancesPerAccountRegion", o.instances());
                extra.put("instances", instancesTotal);
                extra.put("accountRegionsInScope", scope.size());
                extra.put("latencyMsPerAwsCall", o.latencyMs());
                extra.put("concurrency", concurrency);
                extra.put("fleetLoadSeconds", loadSeconds);
                extra.put("rounds", as.size());
                extra.put(
                        "patchpilotSecondsByRound",
                        as.stream().map(Dispatch::seconds).toList());
                extra.put("plainSecondsByRound", plains);
                extra.put("ratioByRound", ratios);
                extra.put("medianRatio", ratio);
                extra.put("loadAverageByRound", loads);
                extra.put("runCompleteSeconds", a.runSeconds());
                extra.put("targetStates", a.targetStates());
                extra.put("plainSeconds", plain);
                extra.put("localAwsCpuBusy", Map.of("patchpilot", aBusy, "plain", plainBusy, "sequential", seqBusy));
                extra.put("sequentialSeconds", sequential);
                extra.put("sequentialMeasuredAccountRegions", subset.size());
                extra.put("sequentialMeasuredSeconds", subsetSeconds);
                extra.put("sequentialExtrapolated", extrapolated);
                Map<String, Object> calls = new LinkedHashMap<>();
                calls.put("minimum", minimum);
                calls.put("patchpilotWhileDispatching", aCalls);
                calls.put("patchpilotWholeRun", a.runCalls());
                calls.put("benchLedgerPollsExcluded", a.ledgerPolls());
                calls.put("plainLoop", bCalls);
                return List.of(
                        new BenchResult(
                                "(a) patching dispatch, fire -> every SendCommand sent (" + fleetText + ")",
                                "s",
                                aSeconds,
                                "(b) plain SDK loop, same minimal calls, " + concurrency + " threads (medians of "
                                        + as.size() + " rounds)",
                                plain,
                                extra),
                        new BenchResult(
                                String.format(
                                        "speed-up (c)/(a) over one account-region after another, 1 thread (the seed's way): %.0f s%s",
                                        sequential,
                                        extrapolated
                                                ? String.format(", extrapolated from %d account-regions", subset.size())
                                                : ""),
                                "x",
                                speedUp,
                                "none",
                                1,
                                Map.of("sequentialSeconds", sequential, "patchpilotSeconds", aSeconds)),
                        new BenchResult(
                                "(d) member AWS calls while dispatching (AssumeRole, DescribeAutoScalingGroups, DescribeInstances, DescribeInstanceInformation, ListCommands, SendCommand)",
                                "calls",
                                aMember,
                                "minimum",
                                minimumTotal,
                                calls),
                        new BenchResult(
                                "(d) all AWS calls while dispatching (member calls + ledger, events, organizations; SQS is not in the call log)",
                                "calls",
                                aAll,
                                "minimum",
                                minimumTotal,
                                Map.of()),
                        new BenchResult("peak heap while dispatching", "MiB", peakHeap, "target", 512, Map.of()));
            } finally {
                local.localAws().control().delete("faults");
            }
        }
    }

    /** What (a) measured. */
    private record Dispatch(
            String trigger,
            String minute,
            double seconds,
            double runSeconds,
            double peakHeapMiB,
            Map<String, Long> calls,
            Map<String, Long> runCalls,
            long ledgerPolls,
            Map<String, Long> targetStates,
            double localAwsCpuAtEnd) {}

    /**
     * Fires the Default window and follows the run: the clock stops when every target of the run has
     * left Discovering in the ledger (Sent, or Done where there was nothing to patch).
     */
    private Dispatch patchpilot(
            LocalMode local,
            MaintenanceWindow window,
            List<AccountRegion> scope,
            Map<String, Long> minimum,
            int round,
            String lastMinute) {
        Ledger ledger = local.service().camel().getRegistry().lookupByNameAndType("ledger", Ledger.class);
        DynamoDbClient ddb = local.aws().hub(DynamoDbClient.class);
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String schedules = sqs.getQueueUrl(
                        r -> r.queueName(local.config().queues().schedules()))
                .queueUrl();
        String work = sqs.getQueueUrl(r -> r.queueName(local.config().queues().work()))
                .queueUrl();
        // the first round fires the window; later ones run it now (a manual run: one per window and minute)
        Instant occurrence = WindowSchedule.nextOpening(window, Instant.now()).orElseThrow();
        String fire = "{\"type\":\"window-fire\",\"window\":\"" + window.name() + "\",\"time\":\"" + occurrence + "\"}";
        String expectedRun = PatchRuns.runId(window, occurrence);
        String trigger = "window fire";
        String minute = "";
        if (round > 1) {
            Instant now = Instant.now();
            while (now.truncatedTo(ChronoUnit.MINUTES).toString().equals(lastMinute)) {
                LockSupport.parkNanos(500_000_000L);
                now = Instant.now();
            }
            minute = now.truncatedTo(ChronoUnit.MINUTES).toString();
            fire = "{\"type\":\"window-run\",\"window\":\"" + window.name() + "\",\"requestedAt\":\"" + minute
                    + "\",\"reason\":\"bench round " + round + "\"}";
            expectedRun = PatchRuns.manualRunId(window, Instant.parse(minute));
            trigger = "window-run message";
        }
        String wanted = expectedRun;

        local.localAws().control().delete("calls");
        Heap.reset();
        long polls = 0;
        long start = System.nanoTime();
        long deadline = start + Duration.ofMinutes(30).toNanos();
        String message = fire;
        sqs.sendMessage(r -> r.queueUrl(schedules).messageBody(message));
        String runId = null;
        while (runId == null) {
            pause(deadline, "the run " + wanted + " did not appear in the ledger");
            polls++;
            runId = ledger.partition(RunKeys.INDEX).stream()
                    .filter(i -> i.get("runId").s().equals(wanted))
                    .map(i -> i.get("runId").s())
                    .findFirst()
                    .orElse(null);
        }
        // Cheap first (the local AWS's own call log, read once a second), then the ledger: the Query that
        // counts the run's targets costs the local AWS ~45 ms of CPU, so it runs only at the end.
        long expectedCommands = minimum.getOrDefault("ssm:SendCommand", 0L);
        long sent = 0;
        boolean commandsSent = false;
        for (int tick = 1; sent < scope.size(); tick++) {
            pause(deadline, "only " + sent + " of " + scope.size() + " account-regions sent their commands");
            if (!commandsSent && tick % 2 == 0) {
                commandsSent = callsByOperation(local).getOrDefault("ssm:SendCommand", 0L) >= expectedCommands;
            }
            if (commandsSent || tick % 75 == 0) {
                polls++;
                sent = countSent(ddb, local.config().ledgerTable(), RunKeys.pk(runId));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = localAwsCpu(local);
        double heap = Heap.peakMiB();
        Map<String, Long> calls = callsByOperation(local);
        calls.merge("dynamodb:Query", -polls, Long::sum);

        // (b) must not share the local AWS with this run's tail (polls): wait for the run to complete,
        // or, should its status never change, until every target has ended and the work queue is empty
        String status = "";
        long runPolls = 0;
        long statePolls = 0;
        Map<String, Long> states = Map.of();
        for (int tick = 1; !status.equals("Succeeded") && !status.equals("CompletedWithFailures"); tick++) {
            pause(deadline, "run " + runId + " did not complete (" + status + ")");
            runPolls++;
            Map<String, AttributeValue> run =
                    ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
            status = run.get("status").s();
            if (tick % 50 == 0) {
                statePolls++;
                states = targetStates(ledger, runId);
                if (!states.containsKey("Discovering")
                        && !states.containsKey("Sent")
                        && QueueDepth.of(sqs, work) == 0) {
                    System.err.printf(
                            "patching: WARNING every target of %s has ended but the run is still %s (targetsDone %s of %s)%n",
                            runId,
                            status,
                            run.get("targetsDone").n(),
                            run.get("targetsTotal").n());
                    break;
                }
            }
        }
        double runSeconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> runCalls = callsByOperation(local);
        runCalls.merge("dynamodb:Query", -polls - statePolls, Long::sum);
        runCalls.merge("dynamodb:GetItem", -runPolls, Long::sum);
        while (QueueDepth.of(sqs, work) > 0) pause(deadline, "the work queue did not drain");
        states = targetStates(ledger, runId);
        return new Dispatch(trigger, minute, seconds, runSeconds, heap, calls, runCalls, polls, states, cpuSeconds);
    }

    private static Map<String, Long> targetStates(Ledger ledger, String runId) {
        Map<String, Long> states = new TreeMap<>();
        for (Map<String, AttributeValue> item : ledger.partition(RunKeys.pk(runId))) {
            if (item.get("sk").s().startsWith("TARGET#"))
                states.merge(item.get("state").s(), 1L, Long::sum);
        }
        return states;
    }

    /** Targets of the run that have left Discovering (Sent, or already Done): a count, not the items. */
    private static long countSent(DynamoDbClient ddb, String table, String pk) {
        long n = 0;
        for (var page : ddb.queryPaginator(r -> r.tableName(table)
                .select(Select.COUNT)
                .keyConditionExpression("pk = :pk AND begins_with(sk, :t)")
                .filterExpression("#st <> :d")
                .expressionAttributeNames(Map.of("#st", "state"))
                .expressionAttributeValues(
                        Map.of(":pk", Ledger.s(pk), ":t", Ledger.s("TARGET#"), ":d", Ledger.s("Discovering"))))) {
            n += page.count();
        }
        return n;
    }

    private static void pause(long deadline, String failure) {
        if (System.nanoTime() > deadline)
            throw new IllegalStateException("patching: " + failure + " within 30 minutes");
        LockSupport.parkNanos(200_000_000L);
    }

    /** CPU seconds the local AWS (moto, one Python process) has used so far; NaN where the OS does not tell. */
    private static double localAwsCpu(LocalMode local) {
        return local.localAws().pids().stream()
                .map(ProcessHandle::of)
                .flatMap(Optional::stream)
                .filter(h -> h.info().commandLine().orElse("").contains("localaws.py"))
                .map(h ->
                        h.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN))
                .findFirst()
                .orElse(Double.NaN);
    }

    /** The work route's consumer count as the running service has it (routes/work.camel.yaml). */
    private static int workConsumers(LocalMode local) {
        return ((Sqs2Endpoint) local.service().camel().getRoute("work").getEndpoint())
                .getConfiguration()
                .getConcurrentConsumers();
    }

    /** Every ACTIVE account of the organization × every configured region, as a run's scope is built. */
    private List<AccountRegion> scope(LocalMode local) {
        List<AccountRegion> scope = new ArrayList<>();
        local.aws().hub(OrganizationsClient.class).listAccountsPaginator(r -> {}).stream()
                .flatMap(p -> p.accounts().stream())
                .filter(a -> a.status() == AccountStatus.ACTIVE)
                .forEach(a -> o.regions().forEach(region -> scope.add(new AccountRegion(a.id(), region))));
        return scope;
    }

    /** The hub's account-regions and those of the first {@code accounts} members. */
    private static List<AccountRegion> subset(List<AccountRegion> scope, int accounts) {
        List<String> members = scope.stream()
                .map(AccountRegion::account)
                .filter(a -> !a.equals(LocalAws.HUB_ACCOUNT))
                .distinct()
                .toList();
        Set<String> chosen = Set.copyOf(members.subList(0, Math.min(accounts, members.size())));
        return scope.stream()
                .filter(t -> t.account().equals(LocalAws.HUB_ACCOUNT) || chosen.contains(t.account()))
                .toList();
    }

    private static long memberTargets(List<AccountRegion> scope) {
        return scope.stream()
                .filter(t -> !t.account().equals(LocalAws.HUB_ACCOUNT))
                .count();
    }

    /**
     * The fewest calls that send the commands: per account-region one DescribeInstances (and one
     * DescribeAutoScalingGroups when the window includes its groups), and where it
     * finds instances one DescribeInstanceInformation and one SendCommand per 50; one AssumeRole per member.
     */
    static Map<String, Long> minimum(List<AccountRegion> scope, int instancesPerAccountRegion, boolean groups) {
        long chunks = (instancesPerAccountRegion + IDS_PER_CALL - 1) / IDS_PER_CALL;
        long members = scope.stream()
                .map(AccountRegion::account)
                .filter(a -> !a.equals(LocalAws.HUB_ACCOUNT))
                .distinct()
                .count();
        long withInstances = memberTargets(scope);
        Map<String, Long> m = new TreeMap<>();
        m.put("sts:AssumeRole", members);
        if (groups) m.put("autoscaling:DescribeAutoScalingGroups", (long) scope.size());
        m.put("ec2:DescribeInstances", (long) scope.size());
        m.put("ssm:DescribeInstanceInformation", withInstances * chunks);
        m.put("ssm:SendCommand", withInstances * chunks);
        return m;
    }

    static Double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The machine's load average over 1, 5 and 15 minutes ({@code /proc/loadavg}; the JVM's 1-minute figure elsewhere). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return String.format(
                    "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static long sum(Map<String, Long> calls, Set<String> operations) {
        return calls.entrySet().stream()
                .filter(e -> operations.contains(e.getKey()))
                .mapToLong(Map.Entry::getValue)
                .sum();
    }

    /** The local AWS's call log as service:operation → calls (SQS goes to ElasticMQ and is not in it). */
    private static Map<String, Long> callsByOperation(LocalMode local) {
        JsonNode log = local.localAws().control().get("calls");
        Map<String, Long> byOperation = new TreeMap<>();
        log.path("calls")
                .forEach(c -> byOperation.merge(
                        c.path("service").asText() + ":" + c.path("operation").asText(),
                        c.path("count").asLong(),
                        Long::sum));
        return byOperation;
    }

    /** Accounts × regions × instances, all running, SSM-managed, Dev, tagged for the Default window as the sweep tags them. */
    static FleetFile fleet(int accounts, List<String> regions, int instances) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(TagPolicy.ENVIRONMENT, "Dev");
        tags.put(
                TagPolicy.MAINTENANCE_WINDOW,
                MaintenanceWindow.defaultWindow(null).name());
        tags.put("PatchGroup", MaintenanceWindow.DEFAULT_ENVIRONMENT);
        List<FleetFile.Account> list = new ArrayList<>();
        for (int a = 0; a < accounts; a++) {
            Map<String, FleetFile.RegionFleet> byRegion = new LinkedHashMap<>();
            for (String region : regions) {
                byRegion.put(
                        region,
                        new FleetFile.RegionFleet(
                                List.of(new FleetFile.Instance(
                                        "bench-web", null, null, null, null, true, null, instances, tags, List.of())),
                                List.of(),
                                List.of()));
            }
            list.add(new FleetFile.Account(
                    String.format("6%011d", a + 1), "bench-" + (a + 1), null, List.of(), byRegion));
        }
        return new FleetFile(list);
    }
}
