package io.patchpilot.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The names the service reads from config/ (and local mode creates) are the names hub.yaml and
 * member-stackset.yaml create, so queue, table, bus, bucket and role names cannot drift.
 */
class TemplateNamesTest {
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Z0-9_]+)(?::[^}]*)?}");

    private final Properties base = Templates.properties("application.properties");
    private final Properties local = Templates.properties("application-local.properties");
    private final JsonNode hub = Templates.read(Templates.HUB);
    private final JsonNode member = Templates.read(Templates.MEMBER);

    @Test
    void jackson_reads_cloudformation_short_form_tags_as_their_values() {
        JsonNode n = Templates.parse("""
                a: !Ref Foo
                b: !GetAtt Bar.Arn
                c: !Sub "${Foo}-dlq"
                d: !If [Cond, !Ref A, !Ref AWS::NoValue]
                e: !Join [",", !Ref Regions]
                """);
        assertEquals("Foo", n.path("a").asText());
        assertEquals("Bar", Templates.getAttTarget(n.path("b")));
        assertEquals("${Foo}-dlq", n.path("c").asText());
        assertEquals(
                List.of("Cond", "A", "AWS::NoValue"),
                List.of(
                        n.path("d").get(0).asText(),
                        n.path("d").get(1).asText(),
                        n.path("d").get(2).asText()));
        assertEquals("Regions", n.path("e").get(1).asText());
    }

    @Test
    void every_configured_queue_and_its_dlq_is_in_the_hub_stack() {
        Map<String, String> queues = queueKeys();
        assertEquals(
                Set.of("config-events", "schedules", "self-service", "emergency", "approvals", "work"),
                queues.keySet(),
                "docs/contract.md#queues");
        Map<String, JsonNode> resources = Templates.resources(hub, "AWS::SQS::Queue");
        assertEquals(
                2 * queues.size(), resources.size(), "each queue and its -dlq, nothing else: " + resources.keySet());
        assertEquals(
                base.getProperty("patchpilot.queue.max-receive-count"),
                Templates.parameterDefault(hub, "QueueMaxReceiveCount"),
                "hub.yaml QueueMaxReceiveCount vs patchpilot.queue.max-receive-count");
        assertEquals(
                base.getProperty("patchpilot.queue.visibility-seconds"),
                Templates.parameterDefault(hub, "QueueVisibilityTimeout"),
                "hub.yaml QueueVisibilityTimeout vs patchpilot.queue.visibility-seconds");
        Map<String, String> env = containerEnvironment();
        queues.forEach((key, name) -> {
            String param = camel(key) + "QueueName";
            assertEquals(
                    name,
                    Templates.parameterDefault(hub, param),
                    "hub.yaml parameter " + param + " vs patchpilot.queue." + key);
            String queueId = idWhere(resources, "QueueName", param);
            String dlqId = idWhere(resources, "QueueName", "${" + param + "}-dlq");
            JsonNode q = resources.get(queueId).path("Properties");
            assertEquals(dlqId, Templates.getAttTarget(q.path("RedrivePolicy").path("deadLetterTargetArn")), queueId);
            assertEquals(
                    "QueueMaxReceiveCount",
                    q.path("RedrivePolicy").path("maxReceiveCount").asText(),
                    queueId + " maxReceiveCount");
            assertEquals(
                    "QueueVisibilityTimeout", q.path("VisibilityTimeout").asText(), queueId + " VisibilityTimeout");
            for (String id : List.of(queueId, dlqId)) {
                assertTrue(
                        resources
                                        .get(id)
                                        .path("Properties")
                                        .path("SqsManagedSseEnabled")
                                        .asBoolean()
                                || resources.get(id).path("Properties").has("KmsMasterKeyId"),
                        id + " is encrypted");
            }
            String var = envName("patchpilot.queue." + key);
            assertEquals(queueId + ".QueueName", env.get(var), "the task passes " + var + " from the queue it creates");
        });
    }

    @Test
    void ledger_table_and_event_bus_are_the_configured_ones() {
        String table = base.getProperty("patchpilot.table.ledger");
        assertEquals(table, Templates.parameterDefault(hub, "LedgerTableName"));
        JsonNode t = Templates.resources(hub, "AWS::DynamoDB::Table")
                .values()
                .iterator()
                .next()
                .path("Properties");
        assertEquals("LedgerTableName", t.path("TableName").asText());
        assertEquals("pk", t.path("KeySchema").get(0).path("AttributeName").asText());
        assertEquals("HASH", t.path("KeySchema").get(0).path("KeyType").asText());
        assertEquals("sk", t.path("KeySchema").get(1).path("AttributeName").asText());
        assertEquals("RANGE", t.path("KeySchema").get(1).path("KeyType").asText());
        assertEquals("PAY_PER_REQUEST", t.path("BillingMode").asText());
        assertTrue(
                t.path("PointInTimeRecoverySpecification")
                        .path("PointInTimeRecoveryEnabled")
                        .asBoolean(),
                "PITR");

        String bus = base.getProperty("patchpilot.event-bus");
        assertEquals(bus, Templates.parameterDefault(hub, "EventBusName"));
        Map<String, JsonNode> buses = Templates.resources(hub, "AWS::Events::EventBus");
        assertEquals(1, buses.size());
        assertEquals(
                "EventBusName",
                buses.values().iterator().next().path("Properties").path("Name").asText());

        Map<String, String> env = containerEnvironment();
        assertEquals(
                idWhere(Templates.resources(hub, "AWS::DynamoDB::Table"), "TableName", "LedgerTableName"),
                env.get(envName("patchpilot.table.ledger")));
        assertEquals("EventBusName", env.get(envName("patchpilot.event-bus")));
    }

    @Test
    void bucket_names_are_the_hub_stacks_and_reach_the_service_by_the_variables_config_reads() {
        Map<String, JsonNode> buckets = Templates.resources(hub, "AWS::S3::Bucket");
        Map<String, String> env = containerEnvironment();
        List<String> keys = base.stringPropertyNames().stream()
                .filter(k -> k.startsWith("patchpilot.bucket."))
                .sorted()
                .toList();
        assertEquals(4, keys.size(), keys.toString());
        for (String key : keys) {
            Matcher m = ENV_REF.matcher(base.getProperty(key));
            assertTrue(m.matches(), key + " is read from the environment in application.properties");
            String var = m.group(1);
            String bucketId = env.get(var);
            assertNotNull(bucketId, "the task definition sets " + var + " (" + key + ")");
            assertTrue(buckets.containsKey(bucketId), var + " refers to a bucket of hub.yaml: " + bucketId);
            String localName = local.getProperty(key);
            String made = buckets.get(bucketId)
                    .path("Properties")
                    .path("BucketName")
                    .asText()
                    .replace("${AWS::AccountId}", local.getProperty("patchpilot.hub.account-id"))
                    .replace("${AWS::Region}", local.getProperty("patchpilot.hub.region"));
            assertEquals(
                    made, localName, bucketId + ": the name hub.yaml gives it in the local hub account (" + key + ")");
        }
    }

    @Test
    void every_patchpilot_variable_of_the_task_is_one_config_reads() {
        Set<String> known = new TreeSet<>();
        for (Properties p : List.of(base, local, Templates.properties("application-aws.properties"))) {
            for (String key : p.stringPropertyNames()) {
                known.add(envName(key));
                Matcher m = ENV_REF.matcher(p.getProperty(key));
                while (m.find()) known.add(m.group(1));
            }
        }
        List<String> unknown = new ArrayList<>();
        List<String> names = new ArrayList<>(containerEnvironment().keySet());
        JsonNode container = container();
        container.path("Secrets").forEach(s -> names.add(s.path("Name").asText()));
        for (String n : names) {
            if (n.startsWith("PATCHPILOT_") && !known.contains(n)) unknown.add(n);
        }
        assertTrue(unknown.isEmpty(), "variables no configuration key reads (typo?): " + unknown + "; known: " + known);
        assertTrue(
                names.contains("PATCHPILOT_EXTERNAL_ID")
                        && container.path("Secrets").toString().contains("ExternalIdSecretArn"),
                "the ExternalId comes from Secrets Manager: " + container.path("Secrets"));
        assertTrue(names.contains("AWS_REGION") && names.contains("PATCHPILOT_REGIONS"), names.toString());
    }

    @Test
    void member_side_names_match_the_configuration_and_local_mode() {
        String role = base.getProperty("patchpilot.member.role-name");
        assertEquals(role, Templates.parameterDefault(hub, "MemberRoleName"));
        assertEquals(role, Templates.parameterDefault(member, "ExecutionRoleName"));
        assertEquals(
                base.getProperty("patchpilot.tagging.config-rule-names"),
                Templates.parameterDefault(member, "RequiredTagsRuleName"));
        assertEquals(
                base.getProperty("patchpilot.tagging.patch-group-key"),
                Templates.parameterDefault(member, "PatchGroupTagKey"));
        assertEquals(
                Templates.parameterDefault(hub, "InventoryPrefix"),
                Templates.parameterDefault(member, "InventoryPrefix"));
        JsonNode configRule = Templates.resources(member, "AWS::Config::ConfigRule")
                .values()
                .iterator()
                .next()
                .path("Properties");
        assertEquals("RequiredTagsRuleName", configRule.path("ConfigRuleName").asText());
        assertEquals(
                "REQUIRED_TAGS",
                configRule.path("Source").path("SourceIdentifier").asText());
    }

    // ------------------------------------------------------------------------------------------

    /** patchpilot.queue.<key> = name, without the numeric settings. */
    private Map<String, String> queueKeys() {
        Map<String, String> out = new TreeMap<>();
        for (String k : base.stringPropertyNames()) {
            if (!k.startsWith("patchpilot.queue.")) continue;
            String key = k.substring("patchpilot.queue.".length());
            if (!Set.of("max-receive-count", "visibility-seconds").contains(key)) out.put(key, base.getProperty(k));
        }
        return out;
    }

    private JsonNode container() {
        Map<String, JsonNode> defs = Templates.resources(hub, "AWS::ECS::TaskDefinition");
        assertEquals(1, defs.size());
        JsonNode containers = defs.values().iterator().next().path("Properties").path("ContainerDefinitions");
        assertEquals(1, containers.size());
        return containers.get(0);
    }

    /** Variable name → its value as Jackson reads it ("Ref target" or "Id.Attr"). */
    private Map<String, String> containerEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        container().path("Environment").forEach(e -> {
            JsonNode v = e.path("Value");
            env.put(e.path("Name").asText(), v.isTextual() ? v.asText() : v.toString());
        });
        return env;
    }

    /** The variable that overrides a key (the rule of io.patchpilot.config.Settings). */
    private static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static String camel(String key) {
        StringBuilder out = new StringBuilder();
        for (String part : key.split("-"))
            out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        return out.toString();
    }

    private static String idWhere(Map<String, JsonNode> resources, String property, String value) {
        List<String> ids = resources.entrySet().stream()
                .filter(e ->
                        e.getValue().path("Properties").path(property).asText().equals(value))
                .map(Map.Entry::getKey)
                .toList();
        assertEquals(1, ids.size(), "one resource with " + property + " = " + value + ": " + ids);
        return ids.get(0);
    }
}
