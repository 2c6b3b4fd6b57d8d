package io.patchpilot.local;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.LocalFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefresh;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefreshInProgressException;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefreshStatus;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.config.model.ComplianceType;
import software.amazon.awssdk.services.config.model.EvaluationResult;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.Target;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.CommandInvocation;
import software.amazon.awssdk.services.ssm.model.CommandInvocationStatus;
import software.amazon.awssdk.services.ssm.model.InstanceInformation;
import software.amazon.awssdk.services.ssm.model.InstancePatchState;
import software.amazon.awssdk.services.ssm.model.InvocationDoesNotExistException;
import software.amazon.awssdk.services.ssm.model.ResourceDataSyncS3Format;

/**
 * The operations moto lacks, as the unmodified AWS SDK for Java sees them (the pytest suite in
 * deploy/local/tests drives the same ones with boto3 and the AWS CLI): a patch run on the
 * default fleet progressing to Success/Failed, patch states and inventory changing after
 * Install, instance refreshes, Config compliance, scheduled rules and member events reaching
 * the hub's queues.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalAwsSdkIT {
    private static final AccountRegion DEV = new AccountRegion("111111111111", "us-east-1");
    private static final AccountRegion PAYMENTS = new AccountRegion("222222222222", "us-east-1");
    private LocalMode local;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    private <C extends SdkClient> C member(Class<C> type, AccountRegion target) {
        return local.aws().member(type, target, "sdk-test");
    }

    private Map<String, String> namesById(AccountRegion target) {
        Map<String, String> names = new HashMap<>();
        member(Ec2Client.class, target)
                .describeInstances()
                .reservations()
                .forEach(r -> r.instances()
                        .forEach(i -> i.tags().stream()
                                .filter(t -> t.key().equals("Name"))
                                .forEach(t -> names.put(i.instanceId(), t.value()))));
        return names;
    }

    @Test
    void patch_run_progresses_to_success_and_failure_and_install_makes_instances_compliant() {
        SsmClient ssm = member(SsmClient.class, DEV);
        Map<String, String> names = namesById(DEV);
        // managed instances, over more than one page
        List<InstanceInformation> managed = ssm.describeInstanceInformationPaginator(r -> r.maxResults(5)).stream()
                .flatMap(p -> p.instanceInformationList().stream())
                .toList();
        Set<String> managedNames = new HashSet<>();
        managed.forEach(i -> managedNames.add(names.get(i.instanceId())));
        assertTrue(managedNames.containsAll(List.of("dev-web", "dev-win", "untagged-worker")), managedNames.toString());
        assertFalse(managedNames.contains("no-agent"), "no SSM agent, not managed");
        assertFalse(managedNames.contains("stopped-box"), "stopped instances do not report");
        assertTrue(managed.size() > 5, "more than one page");

        ssm.createResourceDataSync(r -> r.syncName("inventory")
                .s3Destination(d -> d.bucketName(local.config().buckets().inventory())
                        .prefix("inventory")
                        .region("us-east-1")
                        .syncFormat(ResourceDataSyncS3Format.JSON_SER_DE)));
        String devWeb = names.entrySet().stream()
                .filter(e -> e.getValue().equals("dev-web"))
                .findFirst()
                .orElseThrow()
                .getKey();
        String inventoryKey =
                "inventory/AWS:ComplianceItem/accountid=111111111111/region=us-east-1/resourcetype=ManagedInstanceInventory/"
                        + devWeb + ".json";
        String inventoryBefore = local.aws()
                .hub(S3Client.class)
                .getObjectAsBytes(
                        r -> r.bucket(local.config().buckets().inventory()).key(inventoryKey))
                .asUtf8String();
        assertTrue(inventoryBefore.contains("NON_COMPLIANT"), inventoryBefore);

        InstancePatchState before = patchState(ssm, devWeb);
        assertEquals(2, before.missingCount());
        List<String> targets =
                managed.stream().map(InstanceInformation::instanceId).toList();
        String commandId = ssm.sendCommand(r -> r.documentName("AWS-RunPatchBaseline")
                        .instanceIds(targets)
                        .parameters(Map.of("Operation", List.of("Install"), "RebootOption", List.of("NoReboot")))
                        .maxConcurrency("3")
                        .maxErrors("100%"))
                .command()
                .commandId();

        Set<CommandInvocationStatus> seen = new HashSet<>();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    List<CommandInvocation> all =
                            ssm
                                    .listCommandInvocationsPaginator(
                                            r -> r.commandId(commandId).maxResults(3))
                                    .stream()
                                    .flatMap(p -> p.commandInvocations().stream())
                                    .toList();
                    all.forEach(i -> seen.add(i.status()));
                    return all.size() == targets.size()
                            && all.stream()
                                    .allMatch(i -> i.status() == CommandInvocationStatus.SUCCESS
                                            || i.status() == CommandInvocationStatus.FAILED);
                });
        assertTrue(
                seen.contains(CommandInvocationStatus.PENDING) || seen.contains(CommandInvocationStatus.IN_PROGRESS),
                "invocations take time: " + seen);
        assertEquals(
                "Success",
                ssm.getCommandInvocation(r -> r.commandId(commandId).instanceId(devWeb))
                        .statusAsString());
        InstancePatchState after = patchState(ssm, devWeb);
        assertEquals(0, after.missingCount());
        // as in AWS, InstalledCount does not include patches installed but pending a reboot
        assertEquals(
                before.missingCount() + before.installedCount(),
                after.installedCount() + after.installedPendingRebootCount());
        assertEquals(1, after.installedPendingRebootCount(), "NoReboot leaves the reboot-requiring patch pending");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !inventoryBefore.equals(local.aws()
                        .hub(S3Client.class)
                        .getObjectAsBytes(r ->
                                r.bucket(local.config().buckets().inventory()).key(inventoryKey))
                        .asUtf8String()));

        assertThrows(
                InvocationDoesNotExistException.class,
                () -> ssm.getCommandInvocation(r -> r.commandId(commandId).instanceId("i-00000000000000000")));
    }

    @Test
    void failing_instance_ends_failed_with_a_reason() {
        SsmClient ssm = member(SsmClient.class, PAYMENTS);
        Map<String, String> names = namesById(PAYMENTS);
        String winDb = names.entrySet().stream()
                .filter(e -> e.getValue().equals("prod-win-db"))
                .findFirst()
                .orElseThrow()
                .getKey();
        String commandId = ssm.sendCommand(r -> r.documentName("AWS-RunPatchBaseline")
                        .instanceIds(winDb)
                        .parameters(Map.of("Operation", List.of("Install"))))
                .command()
                .commandId();
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        ssm.getCommandInvocation(r -> r.commandId(commandId).instanceId(winDb))
                                        .status()
                                == CommandInvocationStatus.FAILED);
        assertEquals(
                "Failed",
                ssm.listCommands(r -> r.commandId(commandId)).commands().get(0).statusAsString());
    }

    @Test
    void instance_refresh_replaces_the_group_and_refuses_a_second_one_meanwhile() {
        Ec2Client ec2 = member(Ec2Client.class, DEV);
        AutoScalingClient asg = member(AutoScalingClient.class, DEV);
        Set<String> before = new HashSet<>();
        asg.describeAutoScalingGroups(r -> r.autoScalingGroupNames("dev-web-asg"))
                .autoScalingGroups()
                .get(0)
                .instances()
                .forEach(i -> before.add(i.instanceId()));
        // a version that differs from the instances (SkipMatching would skip identical ones; the source version's
        // other data is kept, as in AWS)
        String version = ec2.createLaunchTemplateVersion(r -> r.launchTemplateName("dev-web-asg-lt")
                        .sourceVersion("1")
                        .launchTemplateData(
                                d -> d.imageId(FleetLoader.DEFAULT_LINUX_AMI).instanceType("t3.small")))
                .launchTemplateVersion()
                .versionNumber()
                .toString();
        String refreshId = asg.startInstanceRefresh(r -> r.autoScalingGroupName("dev-web-asg")
                        .preferences(p -> p.minHealthyPercentage(50).skipMatching(true))
                        .desiredConfiguration(d -> d.launchTemplate(
                                t -> t.launchTemplateName("dev-web-asg-lt").version(version))))
                .instanceRefreshId();
        assertThrows(
                InstanceRefreshInProgressException.class,
                () -> asg.startInstanceRefresh(r -> r.autoScalingGroupName("dev-web-asg")));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> refresh(asg, refreshId).status() == InstanceRefreshStatus.SUCCESSFUL);
        var group = asg.describeAutoScalingGroups(r -> r.autoScalingGroupNames("dev-web-asg"))
                .autoScalingGroups()
                .get(0);
        assertEquals(version, group.launchTemplate().version());
        assertEquals(before.size(), group.instances().size());
        group.instances().forEach(i -> assertFalse(before.contains(i.instanceId()), "every instance replaced"));
        assertEquals(100, refresh(asg, refreshId).percentageComplete());
    }

    @Test
    void config_reports_untagged_resources_non_compliant_page_by_page() {
        ConfigClient config = member(ConfigClient.class, DEV);
        config.putConfigRule(r -> r.configRule(c -> c.configRuleName("patch_tags")
                .source(s -> s.owner("AWS").sourceIdentifier("REQUIRED_TAGS"))
                .scope(s -> s.complianceResourceTypes("AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup"))
                .inputParameters("{\"tag1Key\":\"maintenance_window\",\"tag2Key\":\"PatchGroup\"}")));
        List<EvaluationResult> results = config
                .getComplianceDetailsByConfigRulePaginator(r -> r.configRuleName("patch_tags")
                        .complianceTypes(ComplianceType.NON_COMPLIANT)
                        .limit(2))
                .stream()
                .flatMap(p -> p.evaluationResults().stream())
                .toList();
        Set<String> ids = new HashSet<>();
        results.forEach(e -> ids.add(
                e.evaluationResultIdentifier().evaluationResultQualifier().resourceId()));
        Map<String, String> names = namesById(DEV);
        assertTrue(ids.size() > 2, "more than one page");
        assertTrue(
                names.keySet().stream()
                        .filter(id -> names.get(id).equals("untagged-worker"))
                        .allMatch(ids::contains),
                ids.toString());
    }

    @Test
    void a_scheduled_rule_fired_by_the_test_hook_delivers_its_transformed_input_to_the_local_sqs() {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = sqs.createQueue(r -> r.queueName("scratch-schedule")).queueUrl();
        EventBridgeClient events = local.aws().hub(EventBridgeClient.class);
        events.putRule(r -> r.name("every-friday").scheduleExpression("cron(0 5 ? * FRI *)"));
        events.putTargets(r -> r.rule("every-friday")
                .targets(Target.builder()
                        .id("q")
                        .arn("arn:aws:sqs:us-east-1:123456789012:scratch-schedule")
                        .inputTransformer(
                                t -> t.inputPathsMap(Map.of("time", "$.time"))
                                        .inputTemplate(
                                                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":<time>}"))
                        .build()));
        local.localAws()
                .control()
                .post(
                        "events/fire",
                        Map.of(
                                "account",
                                "123456789012",
                                "region",
                                "us-east-1",
                                "rule",
                                "every-friday",
                                "time",
                                "2026-11-27T05:00:00Z"));
        List<Message> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> got.addAll(sqs.receiveMessage(r -> r.queueUrl(url).waitTimeSeconds(1))
                        .messages()));
        assertEquals(
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"2026-11-27T05:00:00Z\"}",
                got.get(0).body());
    }

    @Test
    void a_config_event_put_on_a_member_bus_with_the_cli_reaches_the_hub_queue_and_gets_tagged() {
        AccountRegion data = new AccountRegion("333333333333", "us-east-1");
        Map<String, String> names = namesById(data);
        String etl = names.entrySet().stream()
                .filter(e -> e.getValue().equals("etl"))
                .findFirst()
                .orElseThrow()
                .getKey();
        String detail =
                "{\"awsAccountId\":\"333333333333\",\"awsRegion\":\"us-east-1\",\"configRuleName\":\"patch_tags\","
                        + "\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"" + etl
                        + "\",\"newEvaluationResult\":{\"complianceType\":\"NON_COMPLIANT\"}}";
        Map<String, String> creds = AwsCli.assumeRole(local.localAws().endpoint(), "333333333333");
        JsonNode put = AwsCli.json(
                local.localAws().endpoint(),
                creds,
                "events",
                "put-events",
                "--entries",
                "[{\"Source\":\"aws.config\",\"DetailType\":\"Config Rules Compliance Change\",\"Detail\":"
                        + quote(detail) + "}]");
        assertEquals(0, put.path("FailedEntryCount").asInt(), put.toString());
        await().atMost(Duration.ofSeconds(30))
                .until(() -> member(Ec2Client.class, data)
                        .describeInstances(r -> r.instanceIds(etl))
                        .reservations()
                        .get(0)
                        .instances()
                        .get(0)
                        .tags()
                        .stream()
                        .anyMatch(t -> t.key().equals("maintenance_window")));
    }

    private static String quote(String json) {
        return "\"" + json.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static InstancePatchState patchState(SsmClient ssm, String instanceId) {
        return ssm.describeInstancePatchStates(r -> r.instanceIds(instanceId))
                .instancePatchStates()
                .get(0);
    }

    private static InstanceRefresh refresh(AutoScalingClient asg, String id) {
        return asg.describeInstanceRefreshes(
                        r -> r.autoScalingGroupName("dev-web-asg").instanceRefreshIds(id))
                .instanceRefreshes()
                .get(0);
    }

    @Test
    void sqs_reports_each_senders_principal_id_as_aws_does() {
        String queue = local.aws()
                .hub(SqsClient.class)
                .createQueue(r -> r.queueName("sender-identity"))
                .queueUrl();
        var iam = IamClient.builder()
                .endpointOverride(local.localAws().endpoint())
                .region(Region.AWS_GLOBAL)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .build();
        var user = iam.createUser(r -> r.userName("oncall-alice")).user();
        var key = iam.createAccessKey(r -> r.userName("oncall-alice")).accessKey();
        try (SqsClient alice = SqsClient.builder()
                .endpointOverride(local.localAws().sqsEndpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build()) {
            alice.sendMessage(r -> r.queueUrl(queue).messageBody("from alice"));
        }
        // the AWS CLI under an assumed role in a member account (STS, as in AWS, wants the role to exist)
        local.aws()
                .member(IamClient.class, new AccountRegion("111111111111", "aws-global"), "test")
                .createRole(
                        r -> r.roleName("Oncall")
                                .assumeRolePolicyDocument(
                                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                                + "\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},\"Action\":\"sts:AssumeRole\"}]}"));
        JsonNode c = AwsCli.json(
                        local.localAws().endpoint(),
                        "sts",
                        "assume-role",
                        "--role-arn",
                        "arn:aws:iam::111111111111:role/Oncall",
                        "--role-session-name",
                        "bob")
                .path("Credentials");
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                Map.of(
                        "AWS_ACCESS_KEY_ID",
                        c.path("AccessKeyId").asText(),
                        "AWS_SECRET_ACCESS_KEY",
                        c.path("SecretAccessKey").asText(),
                        "AWS_SESSION_TOKEN",
                        c.path("SessionToken").asText()),
                "sqs",
                "send-message",
                "--queue-url",
                queue,
                "--message-body",
                "from bob");
        Map<String, String> senders = new HashMap<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            local.aws()
                    .hub(SqsClient.class)
                    .receiveMessage(r -> r.queueUrl(queue)
                            .maxNumberOfMessages(10)
                            .messageSystemAttributeNamesWithStrings("SenderId"))
                    .messages()
                    .forEach(m -> senders.put(m.body(), m.attributesAsStrings().get("SenderId")));
            return senders.size() == 2;
        });
        assertEquals(user.userId(), senders.get("from alice"));
        assertTrue(senders.get("from bob").matches("AROA[A-Z0-9]+:bob"), senders.toString());
    }
}
