package io.patchpilot.acceptance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.SlackStub;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Every patch-poll step of a Default-window run still fails on its last allowed receive (the
 * local SSM answers ListCommandInvocations with 500s): each gives up, its account-region ends
 * Failed and its message lies in the work DLQ with the reason; the run ends with failures. Once
 * SSM answers again, {@code patchpilot dlq redrive work} resumes the steps: they follow the
 * commands already sent, the run ends a second time without the failures, and no instance got a
 * second command.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GiveUpRedriveIT {
    private static final int RECEIVES = 3;
    private LocalMode local;
    private Ledger ledger;
    private final SlackStub slack = new SlackStub();

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start(
                "config/local/fleet.yaml",
                Map.of(
                        // three receives, 2 s and 4 s apart: a step gives up within seconds
                        "patchpilot.queue.max-receive-count",
                        Integer.toString(RECEIVES),
                        "patchpilot.queue.visibility-seconds",
                        "2",
                        "patchpilot.patching.poll-seconds",
                        "1",
                        "patchpilot.slack.webhook-url",
                        slack.url()));
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
        send("patchpilot-schedules", "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> LocalFixture.depth(local, "patchpilot-work") == 0
                        && local.localAws().control().callCount("ec2", "CreateTags") > 0);
    }

    @AfterAll
    void stop() {
        slack.close();
        if (local != null) local.close();
    }

    @Test
    void a_step_that_gave_up_is_a_dead_letter_with_its_reason_and_redrive_resumes_it_without_a_second_command()
            throws Exception {
        MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
        Instant occurrence = WindowSchedule.nextOpening(window, Instant.now()).orElseThrow();
        String runId = PatchRuns.runId(window, occurrence);
        local.localAws()
                .control()
                .post(
                        "faults",
                        Map.of(
                                "rules",
                                List.of(Map.of(
                                        "service", "ssm", "operation", "ListCommandInvocations", "errorRate", 1.0))));
        try {
            send(
                    "patchpilot-schedules",
                    "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence
                            + "\"}");
            await().atMost(Duration.ofSeconds(90)).until(() -> ended(runId).isPresent());
        } finally {
            local.localAws().control().delete("faults");
        }
        Map<String, AttributeValue> firstEnd = run(runId);
        assertEquals("CompletedWithFailures", firstEnd.get("status").s());
        List<Map<String, AttributeValue>> gaveUp = targets(runId).stream()
                .filter(t -> t.get("state").s().equals("Failed"))
                .toList();
        assertFalse(gaveUp.isEmpty(), "some account-region has instances to follow");
        for (Map<String, AttributeValue> t : gaveUp) {
            assertEquals("Sent", t.get("gaveUpFrom").s(), t.toString());
            assertTrue(
                    t.get("reason").s().startsWith("still failing after " + RECEIVES + " receives: InternalFailure"),
                    t.get("reason").s());
        }
        Map<String, Integer> sentBefore = LocalFixture.commandsPerInstance(
                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), runId);
        assertFalse(sentBefore.isEmpty());
        assertTrue(sentBefore.values().stream().allMatch(n -> n == 1), "one command each: " + sentBefore);

        // each give-up is a dead letter with its reason, which dlq list shows
        InProcessCli.Result listed = InProcessCli.run(local, "dlq", "list", "work");
        assertEquals(0, listed.exit(), listed.err());
        assertTrue(
                listed.out()
                        .contains(gaveUp.size() + " dead letter" + (gaveUp.size() == 1 ? "" : "s")
                                + " in patchpilot-work-dlq"),
                listed.out());
        for (Map<String, AttributeValue> t : gaveUp)
            assertTrue(listed.out().contains(t.get("reason").s()), listed.out());
        assertTrue(listed.out().contains("\"type\":\"patch-poll\""), listed.out());

        InProcessCli.Result redriven = InProcessCli.run(local, "dlq", "redrive", "work");
        assertEquals(0, redriven.exit(), redriven.err());
        assertTrue(redriven.out().startsWith(gaveUp.size() + " dead letter"), redriven.out());

        // the run ends a second time, every account-region done, with no second command to any instance
        await().atMost(Duration.ofSeconds(60))
                .until(() -> ended(runId).isPresent()
                        && run(runId).containsKey("completions")
                        && run(runId).get("completions").n().equals("2"));
        Map<String, AttributeValue> secondEnd = run(runId);
        assertEquals(
                secondEnd.get("targetsTotal").n(),
                secondEnd.get("targetsDone").n(),
                "each account-region counted once");
        assertEquals(Integer.toString(gaveUp.size()), secondEnd.get("reopens").n());
        assertTrue(
                targets(runId).stream().noneMatch(t -> t.get("state").s().equals("Failed")),
                targets(runId).toString());
        assertFalse(Ledger.text(secondEnd, "counts").contains("targetsFailed"), Ledger.text(secondEnd, "counts"));
        assertFalse(Ledger.text(secondEnd, "counts").contains("Pending"), Ledger.text(secondEnd, "counts"));
        Map<String, Integer> sentAfter = LocalFixture.commandsPerInstance(
                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), runId);
        assertEquals(sentBefore, sentAfter, "no instance got a second command");
        assertEquals(0, LocalFixture.depth(local, "patchpilot-work-dlq"));

        // both ends were announced, the second saying it replaces the first
        await().atMost(Duration.ofSeconds(30))
                .until(() -> slack.posts().stream()
                                .filter(p -> p.contains(runId + ": "))
                                .count()
                        >= 2);
        List<String> posts =
                slack.posts().stream().filter(p -> p.contains(runId + ": ")).toList();
        assertEquals(2, posts.size(), posts.toString());
        assertTrue(posts.get(0).contains(runId + ": CompletedWithFailures"), posts.get(0));
        assertTrue(posts.get(1).contains(runId + ": " + secondEnd.get("status").s()), posts.get(1));
        assertTrue(posts.get(1).contains("Ended again (end 2)"), posts.get(1));
        System.out.printf(
                "give-up and redrive: %d account-regions gave up and were resumed, %d instances one command each,"
                        + " run %s then %s%n",
                gaveUp.size(),
                sentAfter.size(),
                firstEnd.get("status").s(),
                secondEnd.get("status").s());
    }

    private Optional<String> ended(String runId) {
        return ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                .map(r -> r.get("status").s())
                .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"));
    }

    private Map<String, AttributeValue> run(String runId) {
        return ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
    }

    private List<Map<String, AttributeValue>> targets(String runId) {
        return ledger.partition(RunKeys.pk(runId)).stream()
                .filter(i -> i.get("sk").s().startsWith("TARGET#"))
                .toList();
    }

    private void send(String queue, String body) {
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, queue),
                "--message-body",
                body);
    }
}
