package io.patchpilot.testing;

import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** Starts local mode on free loopback ports for an end-to-end test class. */
public final class LocalFixture {
    private LocalFixture() {}

    /** The outbox goes to a fresh temporary folder unless the settings name one. */
    public static LocalMode start(String fleet, Map<String, String> settings) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.putIfAbsent("patchpilot.notify.outbox", java.nio.file.Files.createTempDirectory("patchpilot-outbox").toString());
        return LocalMode.start(new LocalMode.Options(Path.of("").toAbsolutePath(), Path.of(fleet),
                LocalAws.freePortPair(), LocalAws.freePort(), List.of("--command-delay", "0.2", "--refresh-delay", "0.2"), all));
    }

    public static String queueUrl(LocalMode local, String queue) {
        return local.aws().hub(SqsClient.class).getQueueUrl(r -> r.queueName(queue)).queueUrl();
    }

    /** Visible plus in-flight messages. */
    public static int depth(LocalMode local, String queue) {
        return io.patchpilot.aws.QueueDepth.of(local.aws().hub(SqsClient.class), queueUrl(local, queue));
    }

    /** Receives and deletes everything currently in a queue (DLQ inspection). */
    public static List<Message> drain(LocalMode local, String queue) {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = queueUrl(local, queue);
        List<Message> all = new java.util.ArrayList<>();
        while (true) {
            List<Message> got = sqs.receiveMessage(r -> r.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(0)
                    .messageAttributeNames("All").attributeNamesWithStrings("All")).messages();
            if (got.isEmpty()) return all;
            all.addAll(got);
            for (Message m : got) sqs.deleteMessage(r -> r.queueUrl(url).receiptHandle(m.receiptHandle()));
        }
    }

    /**
     * What reports and the dashboard start from: the fleet tagged by a reconcile sweep, then one
     * Default-window run to its end. Returns the run's id.
     */
    public static String tagAndPatchWithDefaultWindow(LocalMode local) {
        String schedules = queueUrl(local, "patchpilot-schedules");
        AwsCli.json(local.localAws().sqsEndpoint(), "sqs", "send-message", "--queue-url", schedules, "--message-body", "{\"type\":\"reconcile\"}");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> depth(local, "patchpilot-work") == 0
                && local.localAws().control().callCount("ec2", "CreateTags") > 0);
        io.patchpilot.windows.MaintenanceWindow window = io.patchpilot.windows.MaintenanceWindow.defaultWindow(null);
        java.time.Instant occurrence = io.patchpilot.windows.WindowSchedule.nextOpening(window, java.time.Instant.now()).orElseThrow();
        AwsCli.json(local.localAws().sqsEndpoint(), "sqs", "send-message", "--queue-url", schedules, "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}");
        io.patchpilot.ledger.Ledger ledger = new io.patchpilot.ledger.Ledger(local.aws(), local.config().ledgerTable());
        String runId = io.patchpilot.patching.PatchRuns.runId(window, occurrence);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(90)).until(() -> ledger.get(io.patchpilot.patching.PatchRuns.pk(runId),
                        io.patchpilot.patching.PatchRuns.RUN).map(r -> r.get("status").s())
                .filter(st -> st.equals("Succeeded") || st.equals("CompletedWithFailures")).isPresent());
        return runId;
    }
}
