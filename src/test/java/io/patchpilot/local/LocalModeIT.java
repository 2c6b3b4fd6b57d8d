package io.patchpilot.local;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.QueueDepth;
import io.patchpilot.bench.GeneratedFleet;
import io.patchpilot.bench.SoakBench;
import io.patchpilot.bench.SoakTrend;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.ResourceStatus;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackInstanceSummary;
import software.amazon.awssdk.services.cloudformation.model.StackResource;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.config.model.ComplianceType;
import software.amazon.awssdk.services.config.model.ConfigRule;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;

/** Local mode as a newcomer meets it: the default fleet in a local AWS and the service healthy. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalModeIT {
    private LocalMode local;
    private int httpPort;
    private List<Long> pids;

    @BeforeAll
    void start() throws Exception {
        httpPort = LocalAws.freePort();
        local = LocalMode.start(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                httpPort,
                List.of("--command-delay", "0.2"),
                Map.of()));
        pids = local.localAws().pids();
    }

    @AfterAll
    void stop() {
        local.close();
        for (long pid : pids) {
            assertFalse(
                    ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "process " + pid + " left running");
        }
    }

    @Test
    void health_answers_200_when_routes_and_queues_are_up() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("UP"));
    }

    @Test
    void aws_cli_lists_every_contract_queue_and_its_dlq() {
        JsonNode queues = AwsCli.json(local.localAws().sqsEndpoint(), "sqs", "list-queues");
        Set<String> names = new HashSet<>();
        queues.path("QueueUrls")
                .forEach(u -> names.add(u.asText().substring(u.asText().lastIndexOf('/') + 1)));
        for (String q : List.of(
                "patchpilot-config-events",
                "patchpilot-schedules",
                "patchpilot-self-service",
                "patchpilot-emergency",
                "patchpilot-approvals",
                "patchpilot-work")) {
            assertTrue(names.contains(q), q + " in " + names);
            assertTrue(names.contains(PatchpilotConfig.Queues.deadLetterQueueOf(q)), q + "-dlq in " + names);
        }
    }

    @Test
    void aws_cli_lists_the_fleet_accounts_in_the_organization() {
        JsonNode accounts = AwsCli.json(local.localAws().endpoint(), "organizations", "list-accounts");
        Set<String> ids = new HashSet<>();
        accounts.path("Accounts").forEach(a -> ids.add(a.path("Id").asText()));
        assertTrue(ids.containsAll(List.of("111111111111", "222222222222", "333333333333")), ids.toString());
    }

    @Test
    void assumed_credentials_for_an_account_see_only_that_accounts_instances() {
        Set<String> devApps = instanceNames(new AccountRegion("111111111111", "us-east-1"));
        Set<String> payments = instanceNames(new AccountRegion("222222222222", "us-east-1"));
        assertTrue(devApps.contains("dev-web") && devApps.contains("opted-out"), devApps.toString());
        assertTrue(payments.contains("prod-api") && payments.contains("prod-win-db"), payments.toString());
        assertTrue(devApps.stream().noneMatch(payments::contains), "no instance visible from both accounts");
        assertTrue(instanceNames(new AccountRegion("111111111111", "eu-west-1")).contains("dev-eu-web"));
        assertFalse(
                instanceNames(new AccountRegion("111111111111", "eu-west-1")).contains("dev-web"),
                "regions are separate too");
    }

    @Test
    void fleet_summary_counts_what_was_created() {
        assertEquals(3, local.fleet().accounts());
        assertEquals(2, local.fleet().regions());
        assertEquals(2, local.fleet().groups());
        assertTrue(
                local.fleet().instances() >= 25, "instances: " + local.fleet().instances());
    }

    @Test
    void the_hub_stack_and_the_member_stackset_are_deployed_from_the_templates() throws Exception {
        CloudFormationClient cfn = local.aws().hub(CloudFormationClient.class);
        Stack hub =
                cfn.describeStacks(r -> r.stackName("patchpilot-hub")).stacks().get(0);
        assertEquals(StackStatus.CREATE_COMPLETE, hub.stackStatus());
        Map<String, StackResource> deployed = new HashMap<>();
        cfn.describeStackResources(r -> r.stackName("patchpilot-hub"))
                .stackResources()
                .forEach(r -> deployed.put(r.logicalResourceId(), r));
        Set<String> skipped = local.deployment().notDeployed().keySet();
        templateResources(Path.of("deploy/cloudformation/hub.yaml")).forEach((id, type) -> {
            if (skipped.contains(id)) {
                assertFalse(deployed.containsKey(id), id + " is on the not-deployed list but was deployed");
                return;
            }
            StackResource r = deployed.get(id);
            assertTrue(
                    r != null,
                    "hub.yaml resource " + id + " (" + type + ") is neither deployed nor on " + LocalStacks.FILE
                            + "'s notDeployedLocally list");
            assertEquals(type, r.resourceType(), id + ": deployed as another type (none: the local AWS lacks it)");
            assertEquals(ResourceStatus.CREATE_COMPLETE, r.resourceStatus(), id);
            assertFalse(r.physicalResourceId() == null || r.physicalResourceId().isBlank(), id + " has no physical id");
        });

        List<StackInstanceSummary> instances =
                cfn.listStackInstances(r -> r.stackSetName("patchpilot-member")).summaries();
        Set<String> where = new HashSet<>();
        instances.forEach(i -> {
            assertEquals("CURRENT", i.statusAsString(), i.account() + "/" + i.region());
            where.add(i.account() + "/" + i.region());
        });
        Set<String> expected = new HashSet<>();
        for (String a : List.of("111111111111", "222222222222", "333333333333"))
            for (String region : local.config().regions()) expected.add(a + "/" + region);
        assertEquals(expected, where, "a stack instance in every member account x region, none in the hub");
    }

    @Test
    void every_member_account_and_region_has_the_patch_tags_config_rule() {
        for (String account : List.of("111111111111", "222222222222", "333333333333")) {
            for (String region : local.config().regions()) {
                AccountRegion target = new AccountRegion(account, region);
                ConfigClient config = local.aws().member(ConfigClient.class, target, "test");
                List<String> rules = config.describeConfigRules().configRules().stream()
                        .map(ConfigRule::configRuleName)
                        .toList();
                assertEquals(List.of("patch_tags"), rules, target.toString());
                assertTrue(
                        local.aws().member(EventBridgeClient.class, target, "test").listRules(r -> {}).rules().stream()
                                .anyMatch(r -> r.name().equals("patchpilot-forward-to-hub")),
                        target + ": forwarding rule");
            }
        }
    }

    @Test
    void an_untagged_instance_launched_in_a_member_account_is_tagged_by_itself_and_becomes_compliant() {
        AccountRegion target = new AccountRegion("333333333333", "eu-west-1");
        Ec2Client ec2 = local.aws().member(Ec2Client.class, target, "test");
        String id = ec2.runInstances(r ->
                        r.imageId(FleetLoader.DEFAULT_LINUX_AMI).minCount(1).maxCount(1))
                .instances()
                .get(0)
                .instanceId();
        Map<String, String> expected = Map.of(
                "environment", "Default",
                "maintenance_window", "Default_maintenance_window",
                "PatchGroup", "Default");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(expected, tags(ec2, id)));
        ConfigClient config = local.aws().member(ConfigClient.class, target, "test");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertEquals(
                        ComplianceType.COMPLIANT,
                        config
                                .getComplianceDetailsByConfigRule(r -> r.configRuleName("patch_tags"))
                                .evaluationResults()
                                .stream()
                                .filter(e -> e.evaluationResultIdentifier()
                                        .evaluationResultQualifier()
                                        .resourceId()
                                        .equals(id))
                                .findFirst()
                                .orElseThrow()
                                .complianceType()));
    }

    @Test
    void the_default_fleet_is_tagged_after_start_and_the_default_window_patches_it() {
        // every running instance of the default fleet without a window of its own gets one by itself
        AccountRegion dev = new AccountRegion("111111111111", "us-east-1");
        Ec2Client ec2 = local.aws().member(Ec2Client.class, dev, "test");
        String worker = instanceId(ec2, "untagged-worker");
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertEquals(
                        "Default_maintenance_window", tags(ec2, worker).get("maintenance_window")));
        // an AutoScaling group too: AWS Config names it by its ARN in the event
        AutoScalingClient asg = local.aws().member(AutoScalingClient.class, dev, "test");
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertTrue(
                        asg
                                .describeAutoScalingGroups(r -> r.autoScalingGroupNames("dev-web-asg"))
                                .autoScalingGroups()
                                .get(0)
                                .tags()
                                .stream()
                                .anyMatch(t -> t.key().equals("maintenance_window")),
                        "dev-web-asg carries a maintenance_window tag"));
        Instant next = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow();
        local.localAws()
                .control()
                .post(
                        "events/fire",
                        Map.of(
                                "account",
                                LocalAws.HUB_ACCOUNT,
                                "region",
                                LocalAws.HUB_REGION,
                                "rule",
                                "patchpilot-window-org-default",
                                "time",
                                next.toString()));
        SsmClient ssm = local.aws().member(SsmClient.class, dev, "test");
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertTrue(
                        ssm.listCommands().commands().stream()
                                .filter(c -> c.documentName().equals("AWS-RunPatchBaseline"))
                                .anyMatch(c -> c.instanceIds().contains(worker)),
                        "AWS-RunPatchBaseline sent to untagged-worker " + worker));
    }

    @Test
    void a_soak_of_four_seconds_samples_every_figure_and_the_service_takes_all_its_events() {
        // the bench smoke of 'patchpilot bench --only soak' on this class's local mode: a sample a second
        // instead of a minute, and no window runs (the test above proves the Default window's own run)
        List<String> events =
                GeneratedFleet.configEvents(local.aws(), FleetFile.read(Path.of("config/local/fleet.yaml")));
        SoakBench.Outcome out = SoakBench.soak(
                local,
                events,
                new SoakBench.Options(Duration.ofSeconds(4), Duration.ofSeconds(1), 10, Duration.ZERO),
                System.err);
        assertEquals(4, out.samples().size());
        for (SoakBench.Sample s : out.samples()) {
            assertTrue(s.heapMiB() > 0 && s.threads() > 0 && s.openFiles() > 0 && s.backlog() >= 0, s.toString());
        }
        assertTrue(out.samples().get(3).eventsSent() >= 30, out.samples().toString());
        assertEquals(
                List.of("heap after GC", "threads", "open files", "SQS backlog"),
                out.trends().stream().map(SoakTrend::metric).toList());
        assertTrue(
                out.trends().stream().allMatch(SoakTrend::judged), out.trends().toString());
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = sqs.getQueueUrl(r -> r.queueName(local.config().queues().configEvents()))
                .queueUrl();
        await().atMost(Duration.ofSeconds(60)).until(() -> QueueDepth.of(sqs, url) == 0);
    }

    private static Map<String, String> tags(Ec2Client ec2, String instanceId) {
        Map<String, String> out = new HashMap<>();
        ec2.describeTags(r -> r.filters(f -> f.name("resource-id").values(instanceId)))
                .tags()
                .forEach(t -> {
                    if (!t.key().equals("Name")) out.put(t.key(), t.value());
                });
        return out;
    }

    private static String instanceId(Ec2Client ec2, String name) {
        return ec2.describeInstances(r -> r.filters(f -> f.name("tag:Name").values(name)))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .instanceId();
    }

    /** Logical id -> type of a template's resources. */
    private static Map<String, String> templateResources(Path template) throws Exception {
        JsonNode resources =
                new ObjectMapper(new YAMLFactory()).readTree(template.toFile()).path("Resources");
        Map<String, String> out = new HashMap<>();
        resources
                .properties()
                .forEach(e -> out.put(e.getKey(), e.getValue().path("Type").asText()));
        return out;
    }

    private Set<String> instanceNames(AccountRegion target) {
        Ec2Client ec2 = local.aws().member(Ec2Client.class, target, "test");
        Set<String> names = new HashSet<>();
        for (Reservation r : ec2.describeInstances().reservations()) {
            for (Instance i : r.instances()) {
                i.tags().stream()
                        .filter(t -> t.key().equals("Name"))
                        .map(Tag::value)
                        .forEach(names::add);
            }
        }
        return names;
    }
}
