package io.patchpilot.testing;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.QueueDepth;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.Command;

/** Starts local mode on free loopback ports for an end-to-end test class. */
public final class LocalFixture {
    private LocalFixture() {}

    /** The outbox goes to a fresh temporary folder unless the settings name one. */
    public static LocalMode start(String fleet, Map<String, String> settings) throws Exception {
        Map<String, String> all = new HashMap<>(settings);
        // the hub stack's daily reconcile and report would fire mid-suite at 03:00 and 06:00 UTC
        all.putIfAbsent(LocalMode.STACK_PARAMETER + "ReconcileSchedule", "rate(3650 days)");
        all.putIfAbsent(LocalMode.STACK_PARAMETER + "ReportSchedule", "rate(3650 days)");
        all.putIfAbsent(
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-outbox").toString());
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
    public static List<AccountRegion> accountRegions(LocalMode local, List<String> accounts) {
        List<AccountRegion> out = new ArrayList<>();
        for (String a : accounts) for (String r : local.config().regions()) out.add(new AccountRegion(a, r));
        return out;
    }

    /** The patch commands of a run (their comment names it), read back in each member account-region. */
    public static List<Command> commandsOfRun(LocalMode local, Collection<AccountRegion> where, String runId) {
        List<Command> out = new ArrayList<>();
        for (AccountRegion t : where) {
            local
                    .aws()
                    .member(SsmClient.class, t, "test")
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
            LocalMode local, Collection<AccountRegion> where, String runId) {
        return perInstance(commandsOfRun(local, where, runId));
    }

    /** Instance id → how many of the commands name it. */
    public static Map<String, Integer> perInstance(List<Command> commands) {
        Map<String, Integer> counts = new HashMap<>();
        commands.forEach(c -> c.instanceIds().forEach(id -> counts.merge(id, 1, Integer::sum)));
        return counts;
    }

    /** A client for the local SQS signed as one of local mode's IAM users (its SenderId is that user's). */
    public static SqsClient sqsAs(LocalMode local, String user) {
        String key = local.aws()
                .hub(IamClient.class, "aws-global")
                .listAccessKeys(r -> r.userName(user))
                .accessKeyMetadata()
                .get(0)
                .accessKeyId();
        return SqsClient.builder()
                .endpointOverride(local.localAws().sqsEndpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key, "local")))
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
        return QueueDepth.of(local.aws().hub(SqsClient.class), queueUrl(local, queue));
    }

    /** Receives and deletes everything currently in a queue (DLQ inspection). */
    public static List<Message> drain(LocalMode local, String queue) {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = queueUrl(local, queue);
        List<Message> all = new ArrayList<>();
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
        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> depth(local, "patchpilot-work") == 0
                        && local.localAws().control().callCount("ec2", "CreateTags") > 0);
        MaintenanceWindow window = MaintenanceWindow.defaultWindow(null);
        Instant occurrence = WindowSchedule.nextOpening(window, Instant.now()).orElseThrow();
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                schedules,
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}");
        Ledger ledger = new Ledger(local.aws(), local.config().ledgerTable());
        String runId = PatchRuns.runId(window, occurrence);
        Awaitility.await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(st -> st.equals("Succeeded") || st.equals("CompletedWithFailures"))
                        .isPresent());
        return runId;
    }
}
