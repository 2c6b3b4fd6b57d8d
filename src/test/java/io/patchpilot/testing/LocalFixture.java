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
        // the hub stack's daily reconcile and report would fire mid-suite at 03:00 and 06:00 UTC
        all.putIfAbsent(LocalMode.STACK_PARAMETER + "ReconcileSchedule", "rate(3650 days)");
        all.putIfAbsent(LocalMode.STACK_PARAMETER + "ReportSchedule", "rate(3650 days)");
        all.putIfAbsent(
                "patchpilot.notify.outbox",
                java.nio.file.Files.createTempDirectory("patchpilot-outbox").toString());
        return LocalMode.start(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of(fleet),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                // Config evaluation off: these tests put the Config events they mean to test themselves
                List.of("--command-delay", "0.2", "--refresh-delay", "0.2", "--config-evaluation", "off"),
                all));
    }

    /** The default fleet's member accounts (config/local/fleet.yaml). */
    public static final List<String> MEMBERS = List.of("111111111111", "222222222222", "333333333333");

    /** Each account in each of local mode's regions. */
    public static List<io.patchpilot.aws.AccountRegion> accountRegions(LocalMode local, List<String> accounts) {
        List<io.patchpilot.aws.AccountRegion> out = new java.util.ArrayList<>();
        for (String a : accounts)
            for (String r : local.config().regions()) out.add(new io.patchpilot.aws.AccountRegion(a, r));
        return out;
    }

    /** The patch commands of a run (their comment names it), read back in each member account-region. */
    public static List<software.amazon.awssdk.services.ssm.model.Command> commandsOfRun(
            LocalMode local, java.util.Collection<io.patchpilot.aws.AccountRegion> where, String runId) {
        List<software.amazon.awssdk.services.ssm.model.Command> out = new java.util.ArrayList<>();
        for (io.patchpilot.aws.AccountRegion t : where) {
            local
                    .aws()
                    .member(software.amazon.awssdk.services.ssm.SsmClient.class, t, "test")
                    .listCommandsPaginator(r -> r.maxResults(50))
                    .commands()
                    .stream()
                    .filter(c -> c.comment() != null && c.comment().startsWith("patchpilot " + runId + " "))
                    .forEach(out::add);
        }
        return out;
    }

    /** Instance id → how many of the run's patch commands name it. */
    public static Map<String, Integer> commandsPerInstance(
            LocalMode local, java.util.Collection<io.patchpilot.aws.AccountRegion> where, String runId) {
        return perInstance(commandsOfRun(local, where, runId));
    }

    /** Instance id → how many of the commands name it. */
    public static Map<String, Integer> perInstance(List<software.amazon.awssdk.services.ssm.model.Command> commands) {
        Map<String, Integer> counts = new java.util.HashMap<>();
        commands.forEach(c -> c.instanceIds().forEach(id -> counts.merge(id, 1, Integer::sum)));
        return counts;
    }

    /** A client for the local SQS signed as one of local mode's IAM users (its SenderId is that user's). */
    public static SqsClient sqsAs(LocalMode local, String user) {
        String key = local.aws()
                .hub(software.amazon.awssdk.services.iam.IamClient.class, "aws-global")
                .listAccessKeys(r -> r.userName(user))
                .accessKeyMetadata()
                .get(0)
                .accessKeyId();
        return SqsClient.builder()
                .endpointOverride(local.localAws().sqsEndpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(key, "local")))
                .build();
    }

    public static String queueUrl(LocalMode local, String queue) {
        return local.aws()
                .hub(SqsClient.class)
                .getQueueUrl(r -> r.queueName(queue))
                .queueUrl();
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
            List<Message> got = sqs.receiveMessage(r -> r.queueUrl(url)
                            .maxNumberOfMessages(10)
                            .waitTimeSeconds(0)
                            .messageAttributeNames("All")
                            .attributeNamesWithStrings("All"))
                    .messages();
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
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                schedules,
                "--message-body",
                "{\"type\":\"reconcile\"}");
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(60))
                .until(() -> depth(local, "patchpilot-work") == 0
                        && local.localAws().control().callCount("ec2", "CreateTags") > 0);
        io.patchpilot.windows.MaintenanceWindow window = io.patchpilot.windows.MaintenanceWindow.defaultWindow(null);
        java.time.Instant occurrence = io.patchpilot.windows.WindowSchedule.nextOpening(window, java.time.Instant.now())
                .orElseThrow();
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                schedules,
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}");
        io.patchpilot.ledger.Ledger ledger =
                new io.patchpilot.ledger.Ledger(local.aws(), local.config().ledgerTable());
        String runId = io.patchpilot.patching.PatchRuns.runId(window, occurrence);
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(90))
                .until(() -> ledger.get(
                                io.patchpilot.patching.PatchRuns.pk(runId), io.patchpilot.patching.PatchRuns.RUN)
                        .map(r -> r.get("status").s())
                        .filter(st -> st.equals("Succeeded") || st.equals("CompletedWithFailures"))
                        .isPresent());
        return runId;
    }
}
