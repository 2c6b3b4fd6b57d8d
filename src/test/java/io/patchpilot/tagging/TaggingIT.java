package io.patchpilot.tagging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.cli.PatchpilotCli;
import io.patchpilot.errors.DeadLetters;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.windows.WindowDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.TagDescription;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Config events, sent with the AWS CLI, against the default fleet in the local AWS: the tags a
 * user reads back with the AWS CLI in the member account are exactly the policy's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TaggingIT {
    private static final String DEV = "111111111111";
    private static final String PAYMENTS = "222222222222";
    private static final String DATA = "333333333333";
    private LocalMode local;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of("patchpilot.queue.visibility-seconds", "20"));
        // account 111111111111 has its own Dev window (issue 5 writes these; here the ledger item directly)
        Map<String, AttributeValue> w = Ledger.item(WindowDirectory.PARTITION, DEV + "#Dev_maintenance_window");
        w.put("account", Ledger.s(DEV));
        w.put("environment", Ledger.s("Dev"));
        ((Ledger) local.service().camel().getRegistry().lookupByName("ledger")).putAll(List.of(w));
        // a subscriber of the audit events on the hub bus, as an operator would add one
        local.aws().hub(SqsClient.class).createQueue(r -> r.queueName("audit-subscriber"));
        var events = local.aws().hub(EventBridgeClient.class);
        events.putRule(r -> r.name("audit-subscriber")
                .eventBusName("patchpilot")
                .eventPattern("{\"source\":[\"patchpilot\"],\"detail-type\":[\"Patch Tags Applied\"]}"));
        events.putTargets(r -> r.rule("audit-subscriber")
                .eventBusName("patchpilot")
                .targets(t -> t.id("q").arn("arn:aws:sqs:us-east-1:123456789012:audit-subscriber")));
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    @Test
    @Order(1)
    void each_policy_case_gets_exactly_the_expected_tags_and_exempt_resources_are_untouched() {
        Map<String, Map<String, String>> before = new HashMap<>();
        List<String[]> targets = List.of(
                new String[] {DEV, "us-east-1", "dev-web"}, new String[] {DEV, "us-east-1", "dev-win"},
                new String[] {DEV, "us-east-1", "untagged-worker"}, new String[] {DEV, "us-east-1", "test-api"},
                new String[] {DEV, "us-east-1", "opted-out"}, new String[] {DEV, "us-east-1", "opted-out-legacy-key"},
                new String[] {DEV, "eu-west-1", "eks-node"}, new String[] {PAYMENTS, "us-east-1", "prod-ecs-host"},
                new String[] {PAYMENTS, "us-east-1", "k8s-worker"}, new String[] {PAYMENTS, "eu-west-1", "eksctl-node"},
                new String[] {PAYMENTS, "us-east-1", "prod-api"}, new String[] {DATA, "us-east-1", "custom-env"});
        List<String> events = new ArrayList<>();
        for (String[] t : targets) {
            for (Instance i : instances(t[0], t[1], t[2])) {
                before.put(t[2] + "/" + i.instanceId(), tags(i));
                events.add(configEvent(t[0], t[1], "AWS::EC2::Instance", i.instanceId()));
            }
        }
        events.add(configEvent(DEV, "us-east-1", "AWS::AutoScaling::AutoScalingGroup", "dev-web-asg"));
        events.add(configEvent(DEV, "eu-west-1", "AWS::AutoScaling::AutoScalingGroup", "eks-nodegroup-asg"));
        sendConfigEvents(events);

        await().atMost(Duration.ofSeconds(60))
                .until(() -> LocalFixture.depth(local, "patchpilot-config-events") == 0
                        && windowOf(cliTags(DEV, "us-east-1", "untagged-worker")) != null);

        // Dev has a window in 111111111111: Dev instances get it; Test there has none: Default
        assertTags(
                DEV,
                "us-east-1",
                "dev-web",
                Map.of("environment", "Dev", "maintenance_window", "Dev_maintenance_window", "PatchGroup", "Dev"));
        assertTags(
                DEV,
                "us-east-1",
                "dev-win",
                Map.of("environment", "Dev", "maintenance_window", "Dev_maintenance_window", "PatchGroup", "Dev"));
        assertTags(
                DEV,
                "us-east-1",
                "untagged-worker",
                Map.of(
                        "environment",
                        "Default",
                        "maintenance_window",
                        "Default_maintenance_window",
                        "PatchGroup",
                        "Default"));
        assertTags(
                DEV,
                "us-east-1",
                "test-api",
                Map.of(
                        "environment",
                        "Test",
                        "maintenance_window",
                        "Default_maintenance_window",
                        "PatchGroup",
                        "Default",
                        "owner",
                        "bob@example.com"));
        // the Dev window is 111111111111's own: Prod in 222222222222 gets the Default window
        assertTags(
                PAYMENTS,
                "us-east-1",
                "prod-api",
                Map.of(
                        "environment",
                        "Prod",
                        "maintenance_window",
                        "Default_maintenance_window",
                        "PatchGroup",
                        "Default"));
        // an environment patchpilot does not know keeps the owner's tag
        assertTags(
                DATA,
                "us-east-1",
                "custom-env",
                Map.of(
                        "environment",
                        "Sandbox",
                        "maintenance_window",
                        "Default_maintenance_window",
                        "PatchGroup",
                        "Default"));
        for (String[] exempt : List.of(
                new String[] {DEV, "us-east-1", "opted-out"},
                new String[] {DEV, "us-east-1", "opted-out-legacy-key"},
                new String[] {DEV, "eu-west-1", "eks-node"},
                new String[] {PAYMENTS, "us-east-1", "prod-ecs-host"},
                new String[] {PAYMENTS, "us-east-1", "k8s-worker"},
                new String[] {PAYMENTS, "eu-west-1", "eksctl-node"})) {
            for (Instance i : instances(exempt[0], exempt[1], exempt[2])) {
                assertEquals(
                        before.get(exempt[2] + "/" + i.instanceId()), tags(i), exempt[2] + " is exempt and untouched");
            }
        }
        Map<String, String> group = groupTags(DEV, "us-east-1", "dev-web-asg");
        assertEquals("Dev_maintenance_window", group.get("maintenance_window"));
        assertEquals("Dev", group.get("PatchGroup"));
        assertFalse(
                groupTags(DEV, "eu-west-1", "eks-nodegroup-asg").containsKey("maintenance_window"),
                "cluster-autoscaler group is exempt");
        assertTrue(LocalFixture.drain(local, "patchpilot-config-events-dlq").isEmpty());

        // audit: the change is in the ledger and in a Patch Tags Applied event, with old -> new tags and cause
        String worker = instances(DEV, "us-east-1", "untagged-worker").get(0).instanceId();
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        String recorded = ledger.partition("TAGS#" + DEV + "#us-east-1").stream()
                .filter(i -> i.containsKey("changes"))
                .map(i -> i.get("changes").s())
                .filter(c -> c.contains(worker))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ledger record for " + worker));
        assertTrue(
                recorded.contains(
                        "\"written\":{\"PatchGroup\":\"Default\",\"environment\":\"Default\",\"maintenance_window\":\"Default_maintenance_window\"}"),
                recorded);
        assertTrue(recorded.contains("\"cause\":\"event:"), recorded);
        assertTrue(
                ledger.partition("TAGS#" + DEV + "#us-east-1").stream().allMatch(i -> i.containsKey("changes")),
                "each batch's write-ahead record is replaced by its audit item");
        List<Message> published = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            published.addAll(LocalFixture.drain(local, "audit-subscriber"));
            return published.stream().anyMatch(m -> m.body().contains(worker));
        });
        JsonNode event = AwsCliJson.parse(published.stream()
                .filter(m -> m.body().contains(worker))
                .findFirst()
                .orElseThrow()
                .body());
        assertEquals("patchpilot", event.path("source").asText());
        assertEquals("Patch Tags Applied", event.path("detail-type").asText());
        assertEquals(DEV, event.path("detail").path("account").asText());
        boolean listed = false;
        for (JsonNode c : event.path("detail").path("changes")) {
            if (c.path("resourceId").asText().equals(worker)) {
                listed = true;
                assertEquals(
                        "Default_maintenance_window",
                        c.path("written").path("maintenance_window").asText());
                assertTrue(c.path("before").has("Name"), "old tags recorded: " + c);
            }
        }
        assertTrue(listed, event.toString());
    }

    /** JSON parsing for assertions. */
    private static final class AwsCliJson {
        static JsonNode parse(String s) {
            try {
                return new ObjectMapper().readTree(s);
            } catch (Exception e) {
                throw new AssertionError(s, e);
            }
        }
    }

    @Test
    @Order(2)
    void the_same_event_delivered_three_times_writes_tags_once() {
        Instance target = instances(DATA, "eu-west-1", "warehouse").get(0);
        local.localAws().control().delete("calls");
        for (int i = 0; i < 3; i++) sendConfigEvent(DATA, "eu-west-1", "AWS::EC2::Instance", target.instanceId());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> LocalFixture.depth(local, "patchpilot-config-events") == 0
                        && "Default_maintenance_window"
                                .equals(tags(instances(DATA, "eu-west-1", "warehouse")
                                                .get(0))
                                        .get("maintenance_window")));
        assertEquals(1, local.localAws().control().callCount("ec2", "CreateTags"));
    }

    @Test
    @Order(3)
    void bad_input_lands_in_the_dlq_with_its_reason_and_tags_nothing() {
        local.localAws().control().delete("calls");
        String url = LocalFixture.queueUrl(local, "patchpilot-config-events");
        Instance victim = instances(PAYMENTS, "us-east-1", "test-batch").get(0);
        Map<String, String> victimBefore = tags(victim);
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                url,
                "--message-body",
                "this is not json");
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                url,
                "--message-body",
                "{\"hello\":\"world\"}");
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                url,
                "--message-body",
                ConfigEventsTest.event(
                                "999999999999", "999999999999", "patch_tags", "AWS::EC2::Instance", "NON_COMPLIANT")
                        .replace("i-0abc", victim.instanceId()));
        String forged = ConfigEventsTest.event(DEV, PAYMENTS, "patch_tags", "AWS::EC2::Instance", "NON_COMPLIANT")
                .replace("i-0abc", victim.instanceId());
        AwsCli.json(
                local.localAws().sqsEndpoint(), "sqs", "send-message", "--queue-url", url, "--message-body", forged);

        List<Message> dead = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            dead.addAll(LocalFixture.drain(local, "patchpilot-config-events-dlq"));
            return dead.size() >= 4 || LocalFixture.depth(local, "patchpilot-config-events") == 0 && dead.size() >= 3;
        });
        Set<String> reasons = new TreeSet<>();
        for (Message m : dead) {
            reasons.add(m.messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE).stringValue());
            assertEquals(
                    "patchpilot-config-events",
                    m.messageAttributes()
                            .get(DeadLetters.SOURCE_QUEUE_ATTRIBUTE)
                            .stringValue());
        }
        assertTrue(reasons.stream().anyMatch(r -> r.startsWith("body is not JSON")), reasons.toString());
        assertTrue(reasons.contains("not an EventBridge event: missing 'detail-type' or 'detail'"), reasons.toString());
        assertTrue(
                reasons.stream().anyMatch(r -> r.contains("999999999999 is not an active account of the organization")),
                reasons.toString());
        assertTrue(
                reasons.contains("detail.awsAccountId " + PAYMENTS + " differs from the sending account " + DEV),
                reasons.toString());
        assertEquals(
                victimBefore,
                tags(instances(PAYMENTS, "us-east-1", "test-batch").get(0)),
                "nothing tagged");
        assertEquals(0, local.localAws().control().callCount("ec2", "CreateTags"));
    }

    @Test
    @Order(4)
    void a_resource_that_no_longer_exists_is_acknowledged_not_retried() {
        sendConfigEvent(DEV, "us-east-1", "AWS::EC2::Instance", "i-0123456789abcdef0");
        await().atMost(Duration.ofSeconds(30)).until(() -> LocalFixture.depth(local, "patchpilot-config-events") == 0);
        assertTrue(LocalFixture.drain(local, "patchpilot-config-events-dlq").isEmpty());
    }

    @Test
    @Order(5)
    void with_30_percent_throttling_every_event_still_ends_with_the_right_tags() {
        List<Instance> targets = new ArrayList<>();
        for (String[] t : List.of(
                new String[] {PAYMENTS, "us-east-1", "prod-api"},
                new String[] {PAYMENTS, "eu-west-1", "prod-eu-api"},
                new String[] {DATA, "us-east-1", "etl"},
                new String[] {DEV, "eu-west-1", "dev-eu-web"})) {
            for (Instance i : instances(t[0], t[1], t[2])) {
                targets.add(i);
                local.aws()
                        .member(Ec2Client.class, new AccountRegion(t[0], t[1]), "test")
                        .createTags(r -> r.resources(i.instanceId())
                                .tags(Tag.builder()
                                        .key("maintenance_window")
                                        .value("wrong")
                                        .build()));
            }
        }
        // the events are ready before the faults begin: only the service meets the throttling
        List<String[]> events = new ArrayList<>();
        for (String[] t : List.of(
                new String[] {PAYMENTS, "us-east-1", "prod-api"},
                new String[] {PAYMENTS, "eu-west-1", "prod-eu-api"},
                new String[] {DATA, "us-east-1", "etl"},
                new String[] {DEV, "eu-west-1", "dev-eu-web"})) {
            for (Instance i : instances(t[0], t[1], t[2])) events.add(new String[] {t[0], t[1], i.instanceId()});
        }
        local.localAws()
                .control()
                .post(
                        "faults",
                        Map.of("rules", List.of(Map.of("service", "*", "operation", "*", "throttleRate", 0.3))));
        try {
            for (String[] e : events) sendConfigEvent(e[0], e[1], "AWS::EC2::Instance", e[2]);
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> LocalFixture.depth(local, "patchpilot-config-events") == 0);
        } finally {
            local.localAws().control().delete("faults");
        }
        JsonNode calls = local.localAws().control().get("calls");
        long throttled = 0;
        for (JsonNode c : calls.path("calls")) throttled += c.path("throttled").asLong();
        assertTrue(throttled > 0, "throttling was injected: " + calls);
        for (String[] t : List.of(
                new String[] {PAYMENTS, "us-east-1", "prod-api"},
                new String[] {PAYMENTS, "eu-west-1", "prod-eu-api"},
                new String[] {DATA, "us-east-1", "etl"},
                new String[] {DEV, "eu-west-1", "dev-eu-web"})) {
            for (Instance i : instances(t[0], t[1], t[2])) {
                String expected = t[0].equals(DEV) ? "Dev_maintenance_window" : "Default_maintenance_window";
                assertEquals(expected, tags(i).get("maintenance_window"), t[2]);
            }
        }
        assertTrue(LocalFixture.drain(local, "patchpilot-config-events-dlq").isEmpty());
    }

    @Test
    @Order(6)
    void the_sweep_fixes_wrong_tags_everywhere_and_dry_run_changes_nothing() {
        List<String[]> spots = List.of(
                new String[] {DEV, "eu-west-1", "dev-eu-web"},
                new String[] {PAYMENTS, "eu-west-1", "prod-eu-api"},
                new String[] {DATA, "us-east-1", "analytics-win"},
                new String[] {DATA, "eu-west-1", "reporting"});
        for (String[] s : spots) {
            for (Instance i : instances(s[0], s[1], s[2])) {
                local.aws()
                        .member(Ec2Client.class, new AccountRegion(s[0], s[1]), "test")
                        .createTags(r -> r.resources(i.instanceId())
                                .tags(Tag.builder()
                                        .key("maintenance_window")
                                        .value("Nonsense_window")
                                        .build()));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = PatchpilotCli.execute(
                    "tags",
                    "reconcile",
                    "--dry-run",
                    "--local",
                    "--aws-port",
                    Integer.toString(local.localAws().endpoint().getPort()));
        } finally {
            System.setOut(old);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, printed);
        for (String[] s : spots) {
            for (Instance i : instances(s[0], s[1], s[2])) {
                assertEquals("Nonsense_window", tags(i).get("maintenance_window"), "dry run wrote nothing");
                assertTrue(printed.contains(i.instanceId()), "dry run lists " + s[2] + ":\n" + printed);
            }
        }
        String url = LocalFixture.queueUrl(local, "patchpilot-schedules");
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                url,
                "--message-body",
                "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(90))
                .until(() -> spots.stream()
                        .allMatch(s -> instances(s[0], s[1], s[2]).stream()
                                .noneMatch(i -> "Nonsense_window".equals(tags(i).get("maintenance_window")))));
        assertEquals(
                "Default_maintenance_window",
                tags(instances(DATA, "us-east-1", "analytics-win").get(0)).get("maintenance_window"));
        assertEquals(
                "Dev_maintenance_window",
                tags(instances(DEV, "eu-west-1", "dev-eu-web").get(0)).get("maintenance_window"));
        await().atMost(Duration.ofSeconds(60)).until(() -> LocalFixture.depth(local, "patchpilot-work") == 0);
        assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty());
    }

    @Test
    @Order(7)
    void changes_recorded_ahead_by_a_process_that_died_are_audited_by_the_sweep_when_they_landed() {
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        String pk = "TAGS#" + DEV + "#us-east-1";
        // an instance whose tags a dead process wrote (and no audit item names it yet)
        Ec2Client ec2 = local.aws().member(Ec2Client.class, new AccountRegion(DEV, "us-east-1"), "test");
        Map<String, String> written = Map.of(
                "environment", "Default", "maintenance_window", "Default_maintenance_window", "PatchGroup", "Default");
        String landed = ec2.runInstances(r -> r.imageId(
                                instances(DEV, "us-east-1", "dev-web").get(0).imageId())
                        .minCount(1)
                        .maxCount(1)
                        .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                                .tags(written.entrySet().stream()
                                        .map(e -> Tag.builder()
                                                .key(e.getKey())
                                                .value(e.getValue())
                                                .build())
                                        .toList())))
                .instances()
                .get(0)
                .instanceId();
        String notLanded = instances(DEV, "us-east-1", "dev-web").get(0).instanceId();
        String writtenJson =
                "{\"PatchGroup\":\"Default\",\"environment\":\"Default\",\"maintenance_window\":\"Default_maintenance_window\"}";
        // its batch, an hour old: that change reached AWS, the other did not (its CreateTags never went out)
        String deadId = Instant.now().minusSeconds(3600) + "#dead-batch";
        Map<String, AttributeValue> dead = Ledger.item(pk, "PENDING#" + deadId);
        dead.put(
                "planned",
                Ledger.s(
                        "[{\"resourceId\":\"" + landed
                                + "\",\"resourceType\":\"AWS::EC2::Instance\",\"before\":{\"maintenance_window\":\"gone-wrong\"},"
                                + "\"written\":" + writtenJson + ",\"cause\":\"event:dead-batch\"},"
                                + "{\"resourceId\":\"" + notLanded
                                + "\",\"resourceType\":\"AWS::EC2::Instance\",\"before\":{},"
                                + "\"written\":{\"maintenance_window\":\"Never_written_window\"},\"cause\":\"event:dead-batch\"}]"));
        // and a batch in flight right now, which the sweep must leave to its owner
        String liveId = Instant.now() + "#live-batch";
        Map<String, AttributeValue> live = Ledger.item(pk, "PENDING#" + liveId);
        live.put("planned", Ledger.s("[]"));
        ledger.putAll(List.of(dead, live));
        LocalFixture.drain(local, "audit-subscriber");
        try {
            AwsCli.json(
                    local.localAws().sqsEndpoint(),
                    "sqs",
                    "send-message",
                    "--queue-url",
                    LocalFixture.queueUrl(local, "patchpilot-schedules"),
                    "--message-body",
                    "{\"type\":\"reconcile\"}");
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> ledger.get(pk, "PENDING#" + deadId).isEmpty());
            String audited = ledger.get(pk, deadId)
                    .orElseThrow(() -> new AssertionError("no audit item for the dead batch"))
                    .get("changes")
                    .s();
            assertTrue(
                    audited.contains(landed) && audited.contains("gone-wrong"),
                    "the change that landed, with its old tags: " + audited);
            assertFalse(audited.contains(notLanded), "the change that never reached AWS is not audited: " + audited);
            assertTrue(
                    ledger.get(pk, "PENDING#" + liveId).isPresent(),
                    "a record younger than the setting is left to its batch");
            List<Message> published = new ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                published.addAll(LocalFixture.drain(local, "audit-subscriber"));
                return published.stream().anyMatch(m -> m.body().contains("event:dead-batch"));
            });
            assertTrue(published.stream()
                    .noneMatch(m -> m.body().contains(notLanded) && m.body().contains("Never_written_window")));
            await().atMost(Duration.ofSeconds(60)).until(() -> LocalFixture.depth(local, "patchpilot-work") == 0);
            assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty());
        } finally {
            ledger.delete(pk, "PENDING#" + liveId);
        }
    }

    // --- helpers -------------------------------------------------------------------------

    private void sendConfigEvent(String account, String region, String type, String resourceId) {
        sendConfigEvents(List.of(configEvent(account, region, type, resourceId)));
    }

    /** Sends the events with the AWS CLI, ten to a send-message-batch as a user scripting it would. */
    private void sendConfigEvents(List<String> bodies) {
        ObjectMapper json = new ObjectMapper();
        for (int from = 0; from < bodies.size(); from += 10) {
            ArrayNode entries = json.createArrayNode();
            for (int i = from; i < Math.min(from + 10, bodies.size()); i++) {
                entries.addObject().put("Id", "e" + i).put("MessageBody", bodies.get(i));
            }
            JsonNode sent = AwsCli.json(
                    local.localAws().sqsEndpoint(),
                    "sqs",
                    "send-message-batch",
                    "--queue-url",
                    LocalFixture.queueUrl(local, "patchpilot-config-events"),
                    "--entries",
                    entries.toString());
            assertTrue(sent.path("Failed").isEmpty(), "every event sent: " + sent);
        }
    }

    private static String configEvent(String account, String region, String type, String resourceId) {
        return """
                {"version":"0","id":"%s","detail-type":"Config Rules Compliance Change","source":"aws.config","account":"%s",
                 "time":"2026-11-27T05:00:00Z","region":"%s","resources":[],
                 "detail":{"resourceId":"%s","awsRegion":"%s","awsAccountId":"%s","configRuleName":"patch_tags",
                  "resourceType":"%s","newEvaluationResult":{"complianceType":"NON_COMPLIANT"},
                  "messageType":"ComplianceChangeNotification"}}""".formatted(UUID.randomUUID(), account, region, resourceId, region, account, type);
    }

    private List<Instance> instances(String account, String region, String name) {
        return local
                .aws()
                .member(Ec2Client.class, new AccountRegion(account, region), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values(name)))
                .reservations()
                .stream()
                .flatMap(r -> r.instances().stream())
                .toList();
    }

    private static Map<String, String> tags(Instance i) {
        Map<String, String> m = new HashMap<>();
        for (Tag t : i.tags()) m.put(t.key(), t.value());
        return m;
    }

    /** Tags read back with the AWS CLI under the member account's assumed role. */
    private Map<String, String> cliTags(String account, String region, String name) {
        Map<String, String> creds =
                new HashMap<>(AwsCli.assumeRole(local.localAws().endpoint(), account));
        creds.put("AWS_DEFAULT_REGION", region);
        JsonNode r = AwsCli.json(
                local.localAws().endpoint(),
                creds,
                "ec2",
                "describe-instances",
                "--filters",
                "Name=tag:Name,Values=" + name);
        Map<String, String> m = new HashMap<>();
        r.path("Reservations")
                .path(0)
                .path("Instances")
                .path(0)
                .path("Tags")
                .forEach(t -> m.put(t.path("Key").asText(), t.path("Value").asText()));
        return m;
    }

    private static String windowOf(Map<String, String> tags) {
        return tags.get("maintenance_window");
    }

    private void assertTags(String account, String region, String name, Map<String, String> expected) {
        Map<String, String> actual = cliTags(account, region, name);
        expected.forEach((k, v) -> assertEquals(v, actual.get(k), name + " tag " + k + " in " + actual));
    }

    private Map<String, String> groupTags(String account, String region, String group) {
        Map<String, String> m = new HashMap<>();
        for (TagDescription t : local.aws()
                .member(AutoScalingClient.class, new AccountRegion(account, region), "test")
                .describeAutoScalingGroups(r -> r.autoScalingGroupNames(group))
                .autoScalingGroups()
                .get(0)
                .tags()) {
            m.put(t.key(), t.value());
        }
        return m;
    }
}
