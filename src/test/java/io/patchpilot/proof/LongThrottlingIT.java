package io.patchpilot.proof;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.Json;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * One member account throttles half of its calls (every service, its assumed-role sessions only)
 * for {@code -Dthrottling.seconds} (120 by default, as CI runs it; the issue's 300 by hand) while a Default-window run is
 * out, its patch commands taking as long as the throttling lasts so that the run's sends and polls
 * all meet it. The throttled account finishes late but finishes; the other accounts finish as they
 * would unthrottled: no later than one poll interval after their commands end (the SDK's retry
 * budget and the send rate of the adaptive mode are per client, so per account). Each instance of
 * the run gets one command, every queue and DLQ ends empty. {@code -Dthrottling.retry-mode}
 * (standard by default) runs the service with the other retry mode, to compare.
 */
class LongThrottlingIT {
    private static final String THROTTLED = "222222222222";
    private static final int POLL_SECONDS = 3;
    /** patch-poll's largest backoff: PatchTargetStep polls at most 2^4 poll intervals apart. */
    private static final int LONGEST_POLL_GAP = POLL_SECONDS * 16;

    @Test
    void one_account_throttled_half_its_calls_finishes_late_and_the_others_on_time() throws Exception {
        int seconds = Integer.getInteger("throttling.seconds", 120);
        String mode = System.getProperty("throttling.retry-mode", "standard");
        long t0 = System.nanoTime();
        Map<String, String> settings = Map.of(
                LocalMode.STACK_PARAMETER + "ReconcileSchedule",
                "rate(3650 days)",
                LocalMode.STACK_PARAMETER + "ReportSchedule",
                "rate(3650 days)",
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-outbox").toString(),
                "patchpilot.aws.retry-mode",
                mode,
                "patchpilot.patching.poll-seconds",
                Integer.toString(POLL_SECONDS),
                "patchpilot.queue.visibility-seconds",
                "10");
        try (LocalMode local = LocalMode.start(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", Integer.toString(seconds), "--config-evaluation", "off"),
                settings))) {
            Ledger ledger = new Ledger(local.aws(), local.config().ledgerTable());
            String schedules = LocalFixture.queueUrl(local, "patchpilot-schedules");
            send(local, schedules, "{\"type\":\"reconcile\"}");
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> LocalFixture.depth(local, "patchpilot-work") == 0
                            && LocalFixture.depth(local, "patchpilot-schedules") == 0
                            && local.localAws().control().callCount("ec2", "CreateTags") > 0);
            local.localAws().control().delete("calls");

            MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
            Instant occurrence =
                    WindowSchedule.nextOpening(window, Instant.now()).orElseThrow();
            String runId = PatchRuns.runId(window, occurrence);
            local.localAws()
                    .control()
                    .post(
                            "faults",
                            Map.of(
                                    "rules",
                                    List.of(Map.of(
                                            "service",
                                            "*",
                                            "operation",
                                            "*",
                                            "account",
                                            THROTTLED,
                                            "throttleRate",
                                            0.5,
                                            "durationSeconds",
                                            seconds))));
            long fired = System.nanoTime();
            send(
                    local,
                    schedules,
                    "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence
                            + "\"}");
            // account-region → seconds after the fire at which its target was first seen ended, and how long after
            // its last command invocation ended (the local SSM runs a command in waves, so commands end at different
            // times in account-regions of different sizes: lateness is what the service adds)
            Map<String, Double> ended = new TreeMap<>();
            Map<String, Double> late = new TreeMap<>();
            try {
                await().atMost(Duration.ofSeconds(seconds + 600L))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
                                if (t.get("sk").s().startsWith("TARGET#")
                                        && Set.of("Done", "Failed")
                                                .contains(t.get("state").s()))
                                    ended.putIfAbsent(
                                            t.get("account").s() + "/"
                                                    + t.get("region").s(),
                                            seconds(fired));
                            }
                            return runEnded(ledger, runId);
                        });
            } finally {
                local.localAws().control().delete("faults");
            }
            double runSeconds = seconds(fired);

            long throttled = 0;
            long calls = 0;
            long otherThrottled = 0;
            for (var c : local.localAws().control().get("calls").path("calls")) {
                if (c.path("account").asText().equals(THROTTLED)) {
                    calls += c.path("count").asLong();
                    throttled += c.path("throttled").asLong();
                } else otherThrottled += c.path("throttled").asLong();
            }
            double throttledEnd = ended.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(THROTTLED))
                    .mapToDouble(Map.Entry::getValue)
                    .max()
                    .orElseThrow();
            double othersLate = late.entrySet().stream()
                    .filter(e -> !e.getKey().startsWith(THROTTLED))
                    .mapToDouble(Map.Entry::getValue)
                    .max()
                    .orElseThrow();
            double othersEnd = ended.entrySet().stream()
                    .filter(e -> !e.getKey().startsWith(THROTTLED))
                    .mapToDouble(Map.Entry::getValue)
                    .max()
                    .orElseThrow();
            Map<String, String> states = new TreeMap<>();
            for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId)))
                if (t.get("sk").s().startsWith("TARGET#"))
                    states.put(
                            t.get("account").s() + "/" + t.get("region").s(),
                            t.get("state").s());
            List<AccountRegion> everywhere = LocalFixture.accountRegions(local, LocalFixture.MEMBERS);
            Map<String, Integer> commands = LocalFixture.commandsPerInstance(local, everywhere, runId);
            // the run's last messages (its end, notifications) are handled before the queues are counted
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() ->
                            local.config().queues().all().stream().allMatch(q -> LocalFixture.depth(local, q) == 0));
            int deadLettered = 0;
            for (String q : local.config().queues().all())
                deadLettered += LocalFixture.depth(local, q) + LocalFixture.depth(local, q + "-dlq");
            String status = ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                    .orElseThrow()
                    .get("status")
                    .s();
            System.out.printf(
                    "FAULTS %-48s retry-mode=%s run %s in %.0f s; %s throttled %d of its %d calls (%.0f%%), others %d;"
                            + " last of %s ended %.0f s after the fire, last of the others %.0f s (commands of"
                            + " %d s in waves, longest poll gap %d s); ended at (s) %s; seconds after their last invocation ended %s,"
                            + " the others' longest %.0f s; commands per instance %s over %d instances;"
                            + " queued or dead-lettered %d; %.0f s in all%n",
                    "one account throttled 50% for " + seconds + " s:",
                    mode,
                    status,
                    runSeconds,
                    THROTTLED,
                    throttled,
                    calls,
                    calls == 0 ? 0.0 : 100.0 * throttled / calls,
                    otherThrottled,
                    THROTTLED,
                    throttledEnd,
                    othersEnd,
                    seconds,
                    LONGEST_POLL_GAP,
                    ended,
                    late,
                    othersLate,
                    Set.copyOf(commands.values()),
                    commands.size(),
                    deadLettered,
                    seconds(t0));

            assertTrue(throttled > 0 && otherThrottled == 0, "only " + THROTTLED + " was throttled");
            assertTrue(states.size() >= everywhere.size(), "every account-region of the run: " + states);
            assertEquals(Set.of("Done"), Set.copyOf(states.values()), "every account-region finished: " + states);
            assertTrue(
                    othersLate <= LONGEST_POLL_GAP + 30,
                    "the other accounts ended within a poll gap of their commands: " + late);
            assertFalse(
                    LocalFixture.commandsOfRun(
                                    local,
                                    everywhere.stream()
                                            .filter(t -> t.account().equals(THROTTLED))
                                            .toList(),
                                    runId)
                            .isEmpty(),
                    "the run patched instances of the throttled account");
            assertEquals(Set.of(1), Set.copyOf(commands.values()), "one command per instance: " + commands);
            assertEquals(0, deadLettered, "every queue and DLQ empty");
        }
    }

    /** Seconds from the last end of the target's command invocations (its {@code instances} record) to now. */
    private static double lateness(Map<String, AttributeValue> target) {
        Instant last = Instant.EPOCH;
        if (target.containsKey("instances"))
            for (var e : Json.read(target.get("instances").s()).properties()) {
                String at = e.getValue().path("endedAt").asText("");
                if (!at.isEmpty() && Instant.parse(at).isAfter(last)) last = Instant.parse(at);
            }
        return last.equals(Instant.EPOCH)
                ? 0
                : Duration.between(last, Instant.now()).toMillis() / 1000.0;
    }

    private static void send(LocalMode local, String queueUrl, String body) {
        AwsCli.json(
                local.localAws().sqsEndpoint(), "sqs", "send-message", "--queue-url", queueUrl, "--message-body", body);
    }

    private static boolean runEnded(Ledger ledger, String runId) {
        return ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                .map(r -> r.get("status").s())
                .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                .isPresent();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
