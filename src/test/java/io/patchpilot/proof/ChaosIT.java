package io.patchpilot.proof;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.bench.GeneratedFleet;
import io.patchpilot.bench.SqsDrain;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.local.FleetFile;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.Prometheus;
import io.patchpilot.testing.ServiceProcess;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Continuous chaos: three replicas of the service share 10,000 Config events (ten for each
 * instance of a generated fleet of 1,000), two Default-window runs, an emergency run and a report
 * run, while one replica chosen at random is SIGKILLed and started again every 20-40 s (at most
 * {@code -Dchaos.kills}, 8, within {@code -Dchaos.seconds}, 180; the seed {@code -Dchaos.seed} is
 * printed). At the end every instance has its tags, each change audited once, each instance a run
 * patched got one command of that run, every run ended, one report mail went out and every queue
 * and DLQ is empty. The helpers are {@link ScaleOutIT}'s.
 */
class ChaosIT {
    private static final int ACCOUNTS = 10;
    private static final int PER_ACCOUNT_REGION = 50;
    private static final int COPIES = 10;
    private static final int REPLICAS = 3;
    private static final String REPORT_SUBJECT = "managed instances compliant";

    @Test
    void three_replicas_one_killed_every_20_to_40_seconds_lose_and_repeat_nothing() throws Exception {
        long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
        int maxKills = Integer.getInteger("chaos.kills", 8);
        int maxSeconds = Integer.getInteger("chaos.seconds", 180);
        System.out.printf(
                "chaos: seed %d (rerun with -Dchaos.seed=%d), at most %d kills within %d s%n",
                seed, seed, maxKills, maxSeconds);
        Random random = new Random(seed);
        long t0 = System.nanoTime();
        FleetFile fleet = GeneratedFleet.fleet(ACCOUNTS, PER_ACCOUNT_REGION);
        Map<String, String> settings = Map.of(
                "patchpilot.queue.visibility-seconds",
                "20",
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-outbox").toString());
        try (LocalMode local = LocalMode.startWithoutService(
                new LocalMode.Options(
                        Path.of("").toAbsolutePath(),
                        Path.of("generated"),
                        LocalAws.freePortPair(),
                        LocalAws.freePort(),
                        List.of("--command-delay", "10", "--config-evaluation", "off"),
                        settings),
                fleet)) {
            PatchpilotConfig.Queues queues = local.config().queues();
            Ledger ledger = new Ledger(local.aws(), local.config().ledgerTable());
            List<String> once = GeneratedFleet.configEvents(local.aws(), fleet);
            List<String> events = new ArrayList<>();
            for (int copy = 0; copy < COPIES; copy++) events.addAll(once);
            System.out.printf("chaos: fleet of %d instances loaded in %.1f s%n", once.size(), ScaleOutIT.seconds(t0));

            Map<String, String> env = Map.of(
                    "PATCHPILOT_PATCHING_STEP_LEASE_SECONDS", "15",
                    "PATCHPILOT_PATCHING_POLL_SECONDS", "5",
                    "PATCHPILOT_TAGGING_MAX_IN_FLIGHT", "1000",
                    "PATCHPILOT_TAGGING_ABANDONED_AFTER_SECONDS", "20");
            AtomicReferenceArray<ServiceProcess> replicas = new AtomicReferenceArray<>(REPLICAS);
            // one after the other: three JVMs starting at once on this shared 2-core machine outlasted the health wait
            for (int i = 0; i < REPLICAS; i++) replicas.set(i, ScaleOutIT.start(local, "chaos-" + i + "-0", env));

            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
            timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            List<String> kills = new CopyOnWriteArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> chaosFailed = new CompletableFuture<>();
            long[] lastKill = {System.nanoTime()};
            long chaosStart = System.nanoTime();
            Runnable kill = new Runnable() {
                @Override
                public void run() {
                    if (stop.get() || kills.size() >= maxKills || ScaleOutIT.seconds(chaosStart) > maxSeconds) return;
                    try {
                        int i = random.nextInt(REPLICAS);
                        double at = ScaleOutIT.seconds(chaosStart);
                        replicas.get(i).kill();
                        lastKill[0] = System.nanoTime();
                        replicas.set(i, ScaleOutIT.start(local, "chaos-" + i + "-" + (kills.size() + 1), env));
                        kills.add(String.format(
                                "#%d replica %d at %.0f s (up again in %.0f s)",
                                kills.size() + 1, i, at, ScaleOutIT.seconds(lastKill[0])));
                        timer.schedule(this, 20 + random.nextInt(21), TimeUnit.SECONDS);
                    } catch (Exception | Error e) {
                        chaosFailed.completeExceptionally(e);
                    }
                }
            };
            try {
                timer.schedule(kill, 20 + random.nextInt(21), TimeUnit.SECONDS);
                SqsClient sqs = local.aws().hub(SqsClient.class);
                SqsDrain.fill(sqs, LocalFixture.queueUrl(local, queues.configEvents()), events, 4);
                System.out.printf(
                        "chaos: %d Config events sent in %.1f s%n", events.size(), ScaleOutIT.seconds(chaosStart));

                // the work arrives spread over the chaos: a window run, the emergency run, a second window run, the
                // report
                MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
                Instant first =
                        WindowSchedule.nextOpening(window, Instant.now()).orElseThrow();
                Instant second =
                        WindowSchedule.nextOpening(window, first.plusSeconds(1)).orElseThrow();
                List<String> runIds =
                        List.of(PatchRuns.runId(window, first), "chg-chaos-1", PatchRuns.runId(window, second));
                String schedules = LocalFixture.queueUrl(local, queues.schedules());
                send(local, schedules, fire(first));
                after(chaosStart, 20, chaosFailed);
                try (SqsClient requester = LocalFixture.sqsAs(local, "oncall-requester")) {
                    String url = LocalFixture.queueUrl(local, queues.emergency());
                    requester.sendMessage(r -> r.queueUrl(url).messageBody("""
                            {"requestId":"chg-chaos-1","env":"Dev","include_asg":"No","patching_operation":"Install",
                             "operation_post_patching":"NoReboot","accounts":[],"regions":[],"reason":"chaos"}"""));
                }
                after(chaosStart, 40, chaosFailed);
                send(local, schedules, fire(second));
                after(chaosStart, 60, chaosFailed);
                send(local, schedules, "{\"type\":\"report\"}");

                await().atMost(Duration.ofSeconds(maxSeconds + 420L))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            if (chaosFailed.isCompletedExceptionally()) chaosFailed.join();
                            return runIds.stream().allMatch(id -> ScaleOutIT.runEnded(ledger, id))
                                    && reportMails(local) > 0
                                    && quiet(local, queues);
                        });
                double workDone = ScaleOutIT.seconds(chaosStart);
                stop.set(true);
                timer.shutdown();
                assertTrue(timer.awaitTermination(120, TimeUnit.SECONDS), "the last restart ended");
                if (chaosFailed.isCompletedExceptionally()) chaosFailed.join();

                // a batch's write-ahead audit record left by a killed replica is settled by a sweep once 20 s old
                after(lastKill[0], 25, chaosFailed);
                send(local, schedules, "{\"type\":\"reconcile\"}");
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> quiet(local, queues));
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> reportMails(local) == 1);
                double finished = ScaleOutIT.seconds(chaosStart);

                Map<String, Map<String, String>> tags = ScaleOutIT.instanceTags(local, fleet);
                Map<String, Integer> wrong = new TreeMap<>();
                tags.forEach((id, t) -> {
                    String environment = "dev".equals(t.get("Name")) ? "Dev" : "Default";
                    if (!environment.equals(t.get("environment"))
                            || !"Default_maintenance_window".equals(t.get("maintenance_window"))
                            || !"Default".equals(t.get("PatchGroup"))) wrong.merge(t.toString(), 1, Integer::sum);
                });
                Map<String, Integer> changes = ScaleOutIT.auditedChanges(ledger, fleet);
                long changedTwice = changes.values().stream().filter(n -> n > 1).count();

                List<AccountRegion> everywhere = new ArrayList<>();
                fleet.accounts()
                        .forEach(acct ->
                                acct.regions().keySet().forEach(r -> everywhere.add(new AccountRegion(acct.id(), r))));
                Map<String, Map<String, Integer>> commands = new LinkedHashMap<>();
                Map<String, Set<String>> recorded = new LinkedHashMap<>();
                for (String runId : runIds) {
                    commands.put(runId, LocalFixture.commandsPerInstance(local, everywhere, runId));
                    recorded.put(runId, ScaleOutIT.recordedTargets(ledger, runId));
                }
                int deadLettered = 0;
                for (String q : queues.all())
                    deadLettered += LocalFixture.drain(local, PatchpilotConfig.Queues.deadLetterQueueOf(q))
                            .size();
                long processed = 0;
                long duplicates = 0;
                for (int i = 0; i < REPLICAS; i++) {
                    Map<String, Double> m = Prometheus.scrape(replicas.get(i).httpPort());
                    processed += Prometheus.sum(m, "patchpilot_messages_consumed_total");
                    duplicates += Prometheus.sum(m, "patchpilot_duplicates_suppressed_total");
                }
                StringBuilder runs = new StringBuilder();
                for (String runId : runIds)
                    runs.append(runId.startsWith("chg-") ? "emergency" : "window")
                            .append(' ')
                            .append(commands.get(runId).size())
                            .append(" patched ")
                            .append(Set.copyOf(commands.get(runId).values()))
                            .append("; ");
                FaultSuiteIT.counts(
                        "3 replicas, one SIGKILLed every 20-40 s",
                        events.size() + 4L,
                        processed,
                        deadLettered,
                        duplicates,
                        0,
                        "seed " + seed + ", " + kills.size() + " kills " + kills + "; instances " + tags.size()
                                + ", wrong tags " + wrong.size() + ", audited " + changes.size() + " (twice "
                                + changedTwice + "); runs: " + runs + "report mails " + reportMails(local)
                                + "; work done " + Math.round(workDone) + " s, all settled "
                                + Math.round(finished) + " s after the chaos began, "
                                + Math.round(ScaleOutIT.seconds(t0)) + " s in all"
                                + " (processed and duplicates are the last processes')");

                assertTrue(kills.size() >= 2, "replicas were killed while the work went on: " + kills);
                assertEquals(once.size(), tags.size(), "every instance of the fleet");
                assertEquals(Map.of(), wrong, "instances without their patch tags (tags -> count)");
                assertEquals(once.size(), changes.size(), "every instance's tag change audited");
                assertEquals(0, changedTwice, "no instance's tags changed twice");
                for (String runId : runIds) {
                    assertTrue(commands.get(runId).size() > 0, runId + " patched instances");
                    assertEquals(
                            Set.of(1), Set.copyOf(commands.get(runId).values()), runId + ": one command per instance");
                    assertEquals(
                            recorded.get(runId),
                            commands.get(runId).keySet(),
                            runId + ": the instances with a command are those the run recorded as patched");
                }
                assertEquals(0, deadLettered, "nothing dead-lettered");
            } finally {
                stop.set(true);
                timer.shutdownNow();
                for (int i = 0; i < REPLICAS; i++)
                    if (replicas.get(i) != null) replicas.get(i).close();
            }
        }
    }

    private static String fire(Instant occurrence) {
        return "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}";
    }

    private static void send(LocalMode local, String queueUrl, String body) {
        AwsCli.json(
                local.localAws().sqsEndpoint(), "sqs", "send-message", "--queue-url", queueUrl, "--message-body", body);
    }

    /** Waits until {@code seconds} have passed since {@code since}, failing at once if the chaos failed. */
    private static void after(long since, int seconds, CompletableFuture<Void> chaosFailed) {
        await().atMost(Duration.ofSeconds(seconds + 5L))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (chaosFailed.isCompletedExceptionally()) chaosFailed.join();
                    return ScaleOutIT.seconds(since) >= seconds;
                });
    }

    private static boolean quiet(LocalMode local, PatchpilotConfig.Queues queues) {
        return queues.all().stream().allMatch(q -> LocalFixture.depth(local, q) == 0);
    }

    private static long reportMails(LocalMode local) {
        long n = 0;
        for (MimeMessage m : local.mail().getReceivedMessages()) {
            try {
                if (m.getSubject() != null && m.getSubject().contains(REPORT_SUBJECT)) n++;
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        }
        return n;
    }
}
