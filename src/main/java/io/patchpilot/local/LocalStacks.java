package io.patchpilot.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.deploy.StackDeployer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;

/**
 * The local organization's infrastructure, deployed from the templates themselves: the hub stack
 * from {@code hub.yaml} and the member StackSet from {@code member-stackset.yaml} in every member
 * account × region, with the parameter values of {@code config/local/stacks.yaml}. The one list
 * of what is left out locally is that file's {@code notDeployedLocally}. Deploying takes the
 * calls a platform team makes; CloudFormation actions are not the service's (no AwsActions here).
 */
public final class LocalStacks {
    public static final String FILE = "config/local/stacks.yaml";

    private final Path home;
    private final JsonNode spec;

    private LocalStacks(Path home, JsonNode spec) {
        this.home = home;
        this.spec = spec;
    }

    public static LocalStacks read(Path home) {
        Path file = home.resolve(FILE);
        try {
            return new LocalStacks(home, new ObjectMapper(new YAMLFactory()).readTree(file.toFile()));
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    /** What was deployed: the hub stack's outputs, the StackSet's instances and what was left out. */
    public record Deployment(
            String hubStack,
            Map<String, String> hubOutputs,
            String memberStackSet,
            int stackInstances,
            Map<String, String> notDeployed,
            Duration took) {

        /** The settings the hub stack's outputs give the service (the task definition's environment in AWS). */
        public Map<String, String> settings() {
            Map<String, String> out = new LinkedHashMap<>();
            out.put("patchpilot.bucket.inventory", hubOutputs.get("InventoryBucketName"));
            out.put("patchpilot.bucket.reports", hubOutputs.get("ReportsBucketName"));
            out.put("patchpilot.bucket.logs", hubOutputs.get("PatchLogsBucketName"));
            out.put("patchpilot.bucket.athena-results", hubOutputs.get("AthenaResultsBucketName"));
            out.put("patchpilot.emergency.override-buckets", hubOutputs.get("OverrideListsBucketName"));
            return out;
        }
    }

    /** Hub resources left out locally, each with why (printed at start). */
    public Map<String, String> notDeployed() {
        Map<String, String> out = new TreeMap<>();
        spec.path("hub")
                .path("notDeployedLocally")
                .properties()
                .forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /**
     * Deploys both templates: the hub stack in the hub account, then the member StackSet to
     * {@code members} (account → its enabled regions among patchpilot.regions).
     */
    public Deployment deploy(
            CloudFormationClient cfn,
            Settings settings,
            PatchpilotConfig config,
            Map<String, String> hubParameterOverrides,
            String organizationId,
            String rootId,
            Map<String, List<String>> members) {
        long start = System.nanoTime();
        StackDeployer deployer = new StackDeployer(cfn, Duration.ofMinutes(2));
        String hubStack = spec.path("hub").path("stackName").asText("patchpilot-hub");
        String hubTemplate =
                StackDeployer.withoutResources(template("hub"), notDeployed().keySet());
        Map<String, String> hubParameters = hubParameters(settings, config, organizationId);
        hubParameters.putAll(hubParameterOverrides);
        Map<String, String> outputs = deployer.createStack(hubStack, hubTemplate, hubParameters);

        String stackSet = spec.path("members").path("stackSetName").asText("patchpilot-member");
        Map<String, String> memberParameters = memberParameters(settings, config, organizationId, outputs);
        // one StackSet; instances added per group of accounts that share their enabled regions
        Map<List<String>, List<String>> accountsByRegions = new LinkedHashMap<>();
        members.forEach((account, regions) -> accountsByRegions
                .computeIfAbsent(regions, r -> new ArrayList<>())
                .add(account));
        int instances = 0;
        boolean created = false;
        for (Map.Entry<List<String>, List<String>> group : accountsByRegions.entrySet()) {
            if (group.getKey().isEmpty()) continue;
            if (!created) {
                deployer.createStackSet(
                        stackSet, template("members"), memberParameters, rootId, group.getValue(), group.getKey());
                created = true;
            } else {
                deployer.addStackInstances(stackSet, rootId, group.getValue(), group.getKey());
            }
            instances += group.getKey().size() * group.getValue().size();
        }
        return new Deployment(
                hubStack, outputs, stackSet, instances, notDeployed(), Duration.ofNanos(System.nanoTime() - start));
    }

    private String template(String which) {
        Path file = home.resolve(spec.path(which).path("template").asText());
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the template (" + e.getMessage() + ")");
        }
    }

    private Map<String, String> given(String which) {
        Map<String, String> out = new LinkedHashMap<>();
        spec.path(which)
                .path("parameters")
                .properties()
                .forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private Map<String, String> hubParameters(Settings settings, PatchpilotConfig config, String organizationId) {
        Map<String, String> p = given("hub");
        p.put("OrganizationId", organizationId);
        p.put("MemberRoleName", config.member().roleName());
        p.put("Regions", String.join(",", config.regions()));
        p.put("RequesterPrincipalArns", String.join(",", settings.listOrEmpty("patchpilot.emergency.requesters")));
        p.put("ApproverPrincipalArns", String.join(",", settings.listOrEmpty("patchpilot.emergency.approvers")));
        p.put(
                "InventoryPrefix",
                settings.optional("patchpilot.report.inventory-prefix").orElse("inventory"));
        p.put("ConfigEventsQueueName", config.queues().configEvents());
        p.put("SchedulesQueueName", config.queues().schedules());
        p.put("SelfServiceQueueName", config.queues().selfService());
        p.put("EmergencyQueueName", config.queues().emergency());
        p.put("ApprovalsQueueName", config.queues().approvals());
        p.put("WorkQueueName", config.queues().work());
        p.put(
                "QueueVisibilityTimeout",
                Integer.toString(settings.intOr("patchpilot.queue.visibility-seconds", 120, 0, 43200)));
        p.put("QueueMaxReceiveCount", Integer.toString(config.queues().maxReceiveCount()));
        p.put("LedgerTableName", config.ledgerTable());
        p.put("EventBusName", config.eventBus());
        return p;
    }

    private Map<String, String> memberParameters(
            Settings settings, PatchpilotConfig config, String organizationId, Map<String, String> hub) {
        Map<String, String> p = given("members");
        // the account's IAM resources (the execution role) live in one region of the StackSet's
        p.put(
                "PrimaryRegion",
                config.regions().contains(p.get("PrimaryRegion"))
                        ? p.get("PrimaryRegion")
                        : config.regions().get(0));
        p.put("OrganizationId", organizationId);
        p.put("ExternalId", config.member().externalId());
        p.put("ExecutionRoleName", config.member().roleName());
        p.put(
                "RequiredTagsRuleName",
                settings.requireList("patchpilot.tagging.config-rule-names").get(0));
        p.put("PatchGroupTagKey", settings.require("patchpilot.tagging.patch-group-key"));
        p.put(
                "InventoryPrefix",
                settings.optional("patchpilot.report.inventory-prefix").orElse("inventory"));
        p.put("HubTaskRoleArn", output(hub, "TaskRoleArn"));
        p.put("HubEventBusArn", output(hub, "EventBusArn"));
        p.put("InventoryBucketName", output(hub, "InventoryBucketName"));
        p.put("InventoryBucketRegion", config.hub().region());
        p.put("InventoryKmsKeyArn", output(hub, "InventoryKeyArn"));
        p.put("PatchLogsBucketName", output(hub, "PatchLogsBucketName"));
        p.put("OverrideListsBucketName", output(hub, "OverrideListsBucketName"));
        return p;
    }

    private static String output(Map<String, String> outputs, String key) {
        String value = outputs.get(key);
        if (value == null)
            throw new IllegalStateException("the hub stack has no output " + key + ": " + outputs.keySet());
        return value;
    }
}
