package io.patchpilot.emergency;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import jakarta.mail.MessagingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.provider.Arguments;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.ssm.SsmClient;

/** Emergency requests and approvals on the default fleet, sent as operators would, with their own identities. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmergencyIT {
    private LocalMode local;
    private Ledger ledger;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start(
                "config/local/fleet.yaml", Map.of("patchpilot.emergency.approval-expiry-seconds", "20"));
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
        // the fleet tagged first: untagged instances get environment=Default
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> LocalFixture.depth(local, "patchpilot-work") == 0
                        && !instancesTagged("environment", "Default").isEmpty());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    /** The AWS CLI environment of a local IAM user (the local AWS checks no signatures). */
    private Map<String, String> userEnv(String user) {
        String key = local.aws()
                .hub(IamClient.class, "aws-global")
                .listAccessKeys(r -> r.userName(user))
                .accessKeyMetadata()
                .get(0)
                .accessKeyId();
        return Map.of("AWS_ACCESS_KEY_ID", key, "AWS_SECRET_ACCESS_KEY", "local");
    }

    private String principalId(String user) {
        return local.aws()
                .hub(IamClient.class, "aws-global")
                .getUser(r -> r.userName(user))
                .user()
                .userId();
    }

    private Map<String, AttributeValue> runWhen(String runId, Set<String> statuses, int seconds) {
        return await().atMost(Duration.ofSeconds(seconds))
                .until(
                        () -> ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElse(null),
                        r -> r != null && statuses.contains(r.get("status").s()));
    }

    /** DLQ message ids → body and patchpilot-error, once {@code count} have arrived. */
    private Map<String, List<String>> deadLetters(String queue, int count) {
        Map<String, List<String>> dead = new HashMap<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (Message m : LocalFixture.drain(local, queue)) {
                dead.put(
                        m.messageId(),
                        List.of(
                                m.body(),
                                m.messageAttributes().get("patchpilot-error").stringValue()));
            }
            return dead.size() >= count;
        });
        return dead;
    }

    private static List<String> reasons(Map<String, List<String>> dead) {
        return dead.values().stream().map(d -> d.get(1)).sorted().toList();
    }

    private Set<String> instancesTagged(String key, String value) {
        Set<String> ids = new HashSet<>();
        for (String account : List.of("111111111111", "222222222222", "333333333333")) {
            for (String region : local.config().regions()) {
                local.aws()
                        .member(Ec2Client.class, new AccountRegion(account, region), "test")
                        .describeInstances(r -> r.filters(
                                f -> f.name("tag:" + key).values(value),
                                f -> f.name("instance-state-name").values("running")))
                        .reservations()
                        .forEach(res -> res.instances().stream()
                                .map(Instance::instanceId)
                                .forEach(ids::add));
            }
        }
        return ids;
    }

    @Test
    void the_seed_payload_sent_three_times_patches_every_default_instance_once_with_a_summary() {
        String body = EmergencyValidatorTest.SEED;
        for (int i = 0; i < 3; i++) {
            AwsCli.json(
                    local.localAws().sqsEndpoint(),
                    userEnv("oncall-requester"),
                    "sqs",
                    "send-message",
                    "--queue-url",
                    LocalFixture.queueUrl(local, "patchpilot-emergency"),
                    "--message-body",
                    body);
        }
        Map<String, AttributeValue> run = runWhen("chg-4711", Set.of("Succeeded", "CompletedWithFailures"), 90);
        assertEquals(
                1,
                ledger.partition(RunKeys.INDEX).stream()
                        .filter(i -> i.get("runId").s().equals("chg-4711"))
                        .count(),
                "one run");
        assertEquals(
                principalId("oncall-requester"),
                run.get("requester").s(),
                "the requester is the sender's principal id");

        Map<String, Integer> commands = LocalFixture.commandsPerInstance(
                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-4711");
        Set<String> managedDefault = new HashSet<>(instancesTagged("environment", "Default"));
        managedDefault.removeAll(instancesTagged("install_patch", "no"));
        Set<String> unmanaged = new HashSet<>();
        for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk("chg-4711"))) {
            if (t.containsKey("instances")) {
                PatchRunsView.skipped(t.get("instances").s()).forEach(unmanaged::add);
            }
        }
        managedDefault.removeAll(unmanaged);
        assertTrue(!managedDefault.isEmpty());
        assertEquals(managedDefault, commands.keySet(), "every managed Default instance, nothing else");
        assertEquals(Set.of(1), Set.copyOf(commands.values()), "each patched once despite three deliveries");
        assertTrue(
                !run.containsKey("note"),
                "include_asg is done, not noted as left out (AutoScaling groups tagged environment=Default: none here)");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Arrays.stream(local.mail().getReceivedMessages()).anyMatch(m -> {
                    try {
                        return m.getSubject()
                                .startsWith("[patchpilot] chg-4711: "
                                        + run.get("status").s());
                    } catch (MessagingException e) {
                        return false;
                    }
                }));
        assertTrue(LocalFixture.drain(local, "patchpilot-emergency-dlq").isEmpty());
    }

    @Test
    void malformed_requests_land_in_the_dlq_with_a_reason_naming_the_field_and_patch_nothing() {
        List<Arguments> table = EmergencyValidatorTest.malformed().toList();
        long commandsBefore = local.localAws().control().callCount("ssm", "SendCommand");
        try (SqsClient requester = LocalFixture.sqsAs(local, "oncall-requester")) {
            String url = LocalFixture.queueUrl(local, "patchpilot-emergency");
            for (Arguments a : table) {
                String body = (String) a.get()[0];
                if (body.isEmpty()) continue; // SQS refuses empty bodies itself
                requester.sendMessage(r -> r.queueUrl(url).messageBody(body));
            }
        }
        int sent = (int)
                table.stream().filter(a -> !((String) a.get()[0]).isEmpty()).count();
        Map<String, String> reasons = new HashMap<>();
        deadLetters("patchpilot-emergency-dlq", sent).values().forEach(d -> reasons.put(d.get(0), d.get(1)));
        List<String> wrong = new ArrayList<>();
        for (Arguments a : table) {
            String body = (String) a.get()[0];
            if (!body.isEmpty() && !a.get()[1].equals(reasons.get(body)))
                wrong.add(a.get()[1] + " <> " + reasons.get(body));
        }
        assertEquals(List.of(), wrong);
        System.out.printf("%d malformed requests, %d in the DLQ with their reason%n", sent, reasons.size());
        assertEquals(commandsBefore, local.localAws().control().callCount("ssm", "SendCommand"), "nothing patched");
    }

    @Test
    void strangers_cannot_request_and_requesters_cannot_approve_their_own_then_an_approver_starts_the_run()
            throws Exception {
        String prod =
                "{\"requestId\":\"chg-prod-1\",\"env\":\"Prod\",\"patching_operation\":\"Scan\",\"reason\":\"CVE-2026-0001\"}";
        // the default local identity is nobody's requester
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-emergency"),
                "--message-body",
                prod.replace("chg-prod-1", "chg-stranger"));
        List<String> refused = reasons(deadLetters("patchpilot-emergency-dlq", 1));
        assertTrue(
                refused.get(0)
                        .matches("sender: \\S+ may not request emergency runs \\(patchpilot.emergency.requesters\\)"),
                refused.toString());
        assertTrue(ledger.get(RunKeys.pk("chg-stranger"), RunKeys.RUN).isEmpty());

        Path file = Files.writeString(Files.createTempFile("prod", ".json"), prod);
        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "start", file.toString(), "--as", "oncall-requester")
                        .exit());
        Map<String, AttributeValue> pending = runWhen("chg-prod-1", Set.of("PendingApproval"), 30);
        assertTrue(pending.containsKey("expiresAt"));

        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "approve", "chg-prod-1", "--as", "oncall-requester")
                        .exit());
        assertEquals(
                0, InProcessCli.run(local, "emergency", "approve", "chg-prod-1").exit());
        List<String> approvals = reasons(deadLetters("patchpilot-approvals-dlq", 2));
        assertEquals(
                Set.of("sender: the requester of chg-prod-1 cannot also approve or reject it"),
                approvals.stream()
                        .filter(r -> r.startsWith("sender: the requester"))
                        .collect(Collectors.toSet()));
        assertTrue(
                approvals.stream()
                        .anyMatch(r -> r.matches(
                                "sender: \\S+ may not approve emergency runs \\(patchpilot.emergency.approvers\\)")),
                approvals.toString());
        assertEquals(
                "PendingApproval",
                ledger.get(RunKeys.pk("chg-prod-1"), RunKeys.RUN)
                        .orElseThrow()
                        .get("status")
                        .s());

        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "approve", "chg-prod-1", "--as", "oncall-approver")
                        .exit());
        Map<String, AttributeValue> run = runWhen("chg-prod-1", Set.of("Succeeded", "CompletedWithFailures"), 90);
        assertEquals(principalId("oncall-approver"), run.get("approver").s());
        assertEquals(
                instancesTagged("environment", "Prod").stream()
                        .filter(id -> LocalFixture.commandsPerInstance(
                                        local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-prod-1")
                                .containsKey(id))
                        .count(),
                LocalFixture.commandsPerInstance(
                                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-prod-1")
                        .size(),
                "only Prod instances");
        assertTrue(!LocalFixture.commandsPerInstance(
                        local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-prod-1")
                .isEmpty());
        InProcessCli.Result show = InProcessCli.run(local, "runs", "show", "chg-prod-1", "--follow");
        assertTrue(
                show.out().contains("requester: " + principalId("oncall-requester"))
                        && show.out().contains("approver: " + principalId("oncall-approver")),
                show.out());
    }

    @Test
    void an_approval_after_the_expiry_is_refused_and_the_run_ends_expired() {
        assertEquals(
                0,
                InProcessCli.run(
                                local,
                                "emergency",
                                "start",
                                "--env",
                                "All",
                                "--request-id",
                                "chg-late",
                                "--operation",
                                "Scan",
                                "--as",
                                "oncall-requester")
                        .exit());
        runWhen("chg-late", Set.of("PendingApproval"), 30);
        Map<String, AttributeValue> expired = runWhen("chg-late", Set.of("Expired"), 60);
        assertTrue(expired.containsKey("finishedAt"));
        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "approve", "chg-late", "--as", "oncall-approver")
                        .exit());
        assertEquals(
                List.of("requestId: chg-late is Expired, not waiting for approval"),
                reasons(deadLetters("patchpilot-approvals-dlq", 1)));
        assertTrue(
                LocalFixture.commandsPerInstance(
                                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-late")
                        .isEmpty(),
                "nothing patched");
    }

    @Test
    void an_override_list_reaches_run_patch_baseline_in_the_chosen_account_and_region_only() {
        String list = "s3://" + local.deployment().hubOutputs().get("OverrideListsBucketName") + "/"
                + LocalMode.SAMPLE_OVERRIDE_LIST;
        assertEquals(
                0,
                InProcessCli.run(
                                local,
                                "emergency",
                                "start",
                                "--env",
                                "Dev",
                                "--request-id",
                                "chg-override",
                                "--accounts",
                                "111111111111",
                                "--regions",
                                "us-east-1",
                                "--override-list",
                                list,
                                "--reason",
                                "CVE-2026-9999",
                                "--as",
                                "oncall-requester")
                        .exit());
        runWhen("chg-override", Set.of("Succeeded", "CompletedWithFailures"), 90);
        var commands = local
                .aws()
                .member(SsmClient.class, new AccountRegion("111111111111", "us-east-1"), "test")
                .listCommandsPaginator(r -> r.maxResults(50))
                .commands()
                .stream()
                .filter(c -> c.comment() != null && c.comment().startsWith("patchpilot chg-override "))
                .toList();
        assertEquals(1, commands.size());
        assertEquals(List.of(list), commands.get(0).parameters().get("InstallOverrideList"));
        assertEquals("AWS-RunPatchBaseline", commands.get(0).documentName());
        assertEquals(
                Set.copyOf(commands.get(0).instanceIds()),
                LocalFixture.commandsPerInstance(
                                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), "chg-override")
                        .keySet(),
                "no other account or region");
    }

    /** Reads the instance outcomes a target item records. */
    static final class PatchRunsView {
        static List<String> skipped(String instancesJson) {
            try {
                List<String> out = new ArrayList<>();
                new ObjectMapper().readTree(instancesJson).properties().forEach(e -> {
                    if (e.getValue().path("status").asText().equals("Skipped")) out.add(e.getKey());
                });
                return out;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
