package io.patchpilot.acceptance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.deploy.StackDeployer;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalStacks;
import io.patchpilot.service.PatchpilotService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * A real sandbox account: the management account of a sandbox organization, with AWS Config
 * recording in the region. The hub stack and, in the same account, a stack of the member template
 * are deployed from deploy/cloudformation/ (the ECS resources left out as locally: the service runs
 * in this JVM); everything the journey creates carries the tag patchpilot:acceptance=RUN, and
 * {@link #close()} deletes it all, retained buckets, table and key included, even after a failure.
 * What it costs: deploy/README.md, "Acceptance suite".
 */
final class AwsSandboxTarget implements AcceptanceTarget {
    private static final String HUB_STACK = "patchpilot-acceptance-hub";
    private static final String MEMBER_STACK = "patchpilot-acceptance-member";

    private final String runTag;
    private final AccountRegion hub;
    private final List<Runnable> teardown = new ArrayList<>();
    private final GreenMail mail;
    private final String approverRoleArn;
    private CloudFormationClient cfn;
    private AwsClients aws;
    private PatchpilotConfig config;
    private PatchpilotService service;
    private Map<String, String> outputs = Map.of();

    private AwsSandboxTarget(String account, String region, String runTag, String approverRoleArn) {
        this.runTag = runTag;
        this.hub = new AccountRegion(account, region);
        this.approverRoleArn = approverRoleArn;
        this.mail = new GreenMail(new ServerSetup(LocalAws.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    }

    static AcceptanceTarget open(String account, String runTag) throws Exception {
        String region = System.getProperty("patchpilot.acceptance.region", "us-east-1");
        GetCallerIdentityResponse caller;
        try (StsClient sts = StsClient.builder()
                .region(Region.of(region))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .build()) {
            caller = sts.getCallerIdentity();
        } catch (RuntimeException e) {
            Assumptions.abort("acceptance: -Dpatchpilot.acceptance.account=" + account
                    + " given but no usable AWS credentials (" + e.getMessage() + "); skipped");
            throw e;
        }
        assertEquals(
                account,
                caller.account(),
                "the credentials act in another account than -Dpatchpilot.acceptance.account");
        AwsSandboxTarget target = new AwsSandboxTarget(
                account, region, runTag, System.getProperty("patchpilot.acceptance.approver-role-arn", ""));
        try {
            target.deploy(caller.arn());
            return target;
        } catch (Exception | Error e) {
            target.close();
            throw e;
        }
    }

    private void deploy(String callerArn) throws Exception {
        Path home = Path.of("").toAbsolutePath();
        mail.start();
        teardown.add(mail::stop);
        Map<String, String> overrides = new HashMap<>();
        overrides.put("patchpilot.hub.account-id", hub.account());
        overrides.put("patchpilot.hub.region", hub.region());
        overrides.put("patchpilot.regions", hub.region());
        overrides.put("patchpilot.member.external-id", UUID.randomUUID().toString());
        overrides.put("patchpilot.http.port", Integer.toString(LocalAws.freePort()));
        overrides.put("patchpilot.mail.host", "127.0.0.1");
        overrides.put("patchpilot.mail.port", Integer.toString(mail.getSmtp().getPort()));
        overrides.put("patchpilot.mail.starttls", "false");
        overrides.put("patchpilot.mail.from", "patchpilot@acceptance.invalid");
        overrides.put("patchpilot.mail.to", "platform-team@acceptance.invalid");
        overrides.put(
                "patchpilot.notify.outbox",
                Files.createTempDirectory("acceptance-outbox").toString());
        overrides.put("patchpilot.emergency.requesters", callerArn);
        overrides.put("patchpilot.emergency.approvers", approverRoleArn.isBlank() ? callerArn : approverRoleArn);
        for (String b : List.of("inventory", "reports", "logs", "athena-results"))
            overrides.put("patchpilot.bucket." + b, "patchpilot-" + b + "-" + hub.account() + "-" + hub.region());
        Settings planned = Settings.load(home.resolve("config"), "aws", System.getenv(), overrides);
        aws = new AwsClients(PatchpilotConfig.from(planned));
        cfn = aws.hub(CloudFormationClient.class);
        requireConfigRecording();

        StackDeployer deployer = new StackDeployer(cfn, Duration.ofMinutes(20));
        LocalStacks stacks = LocalStacks.read(home);
        Map<String, String> hubParameters = new HashMap<>();
        hubParameters.put(
                "OrganizationId",
                aws.hub(OrganizationsClient.class)
                        .describeOrganization()
                        .organization()
                        .id());
        hubParameters.put(
                "ExternalIdSecretArn",
                "arn:aws:secretsmanager:" + hub.region() + ":" + hub.account()
                        + ":secret:patchpilot-acceptance-unused");
        hubParameters.put("Image", "patchpilot:acceptance");
        hubParameters.put("Subnets", defaultSubnet());
        hubParameters.put("SecurityGroup", defaultSecurityGroup());
        hubParameters.put("Regions", hub.region());
        hubParameters.put("RequesterPrincipalArns", planned.require("patchpilot.emergency.requesters"));
        hubParameters.put("ApproverPrincipalArns", planned.require("patchpilot.emergency.approvers"));
        teardown.add(this::deleteStacksAndRetained);
        outputs = deployer.createStack(
                HUB_STACK,
                StackDeployer.withoutResources(
                        Files.readString(home.resolve("deploy/cloudformation/hub.yaml")),
                        stacks.notDeployed().keySet()),
                hubParameters);
        Map<String, String> memberParameters = new HashMap<>();
        memberParameters.put("OrganizationId", hubParameters.get("OrganizationId"));
        memberParameters.put("HubTaskRoleArn", outputs.get("TaskRoleArn"));
        memberParameters.put("ExternalId", planned.require("patchpilot.member.external-id"));
        memberParameters.put("PrimaryRegion", hub.region());
        memberParameters.put("HubEventBusArn", outputs.get("EventBusArn"));
        memberParameters.put("InventoryBucketName", outputs.get("InventoryBucketName"));
        memberParameters.put("InventoryBucketRegion", hub.region());
        memberParameters.put("InventoryKmsKeyArn", outputs.get("InventoryKeyArn"));
        memberParameters.put("PatchLogsBucketName", outputs.get("PatchLogsBucketName"));
        memberParameters.put("OverrideListsBucketName", outputs.get("OverrideListsBucketName"));
        // one account: the member template as a plain stack (a service-managed StackSet skips the management account)
        deployer.createStack(
                MEMBER_STACK,
                Files.readString(home.resolve("deploy/cloudformation/member-stackset.yaml")),
                memberParameters);

        Map<String, String> fromOutputs = new HashMap<>(overrides);
        fromOutputs.put("patchpilot.bucket.inventory", outputs.get("InventoryBucketName"));
        fromOutputs.put("patchpilot.bucket.reports", outputs.get("ReportsBucketName"));
        fromOutputs.put("patchpilot.bucket.logs", outputs.get("PatchLogsBucketName"));
        fromOutputs.put("patchpilot.bucket.athena-results", outputs.get("AthenaResultsBucketName"));
        fromOutputs.put("patchpilot.emergency.override-buckets", outputs.get("OverrideListsBucketName"));
        Settings settings = Settings.load(home.resolve("config"), "aws", System.getenv(), fromOutputs);
        config = PatchpilotConfig.from(settings);
        service = new PatchpilotService(home, settings, config, aws, Map.of());
        service.start();
        teardown.add(0, service::close);
    }

    private void requireConfigRecording() {
        boolean recording = aws
                .hub(ConfigClient.class)
                .describeConfigurationRecorderStatus(r -> {})
                .configurationRecordersStatus()
                .stream()
                .anyMatch(s -> Boolean.TRUE.equals(s.recording()));
        Assumptions.assumeTrue(
                recording,
                "acceptance: AWS Config is not recording in " + hub
                        + " (the patch_tags rule needs a recorder); skipped");
    }

    private String defaultSubnet() {
        return aws.hub(Ec2Client.class)
                .describeSubnets(r -> r.filters(
                        Filter.builder().name("default-for-az").values("true").build()))
                .subnets()
                .get(0)
                .subnetId();
    }

    private String defaultSecurityGroup() {
        return aws.hub(Ec2Client.class)
                .describeSecurityGroups(r -> r.filters(
                        Filter.builder().name("group-name").values("default").build()))
                .securityGroups()
                .get(0)
                .groupId();
    }

    @Override
    public String describe() {
        return "AWS account " + hub.account() + " in " + hub.region();
    }

    @Override
    public AwsClients aws() {
        return aws;
    }

    @Override
    public PatchpilotConfig config() {
        return config;
    }

    @Override
    public Ledger ledger() {
        return (Ledger) service.camel().getRegistry().lookupByName("ledger");
    }

    @Override
    public GreenMail mail() {
        return mail;
    }

    @Override
    public String hubStack() {
        return HUB_STACK;
    }

    @Override
    public List<String> memberStacksNotComplete() {
        String status = cfn.describeStacks(r -> r.stackName(MEMBER_STACK))
                .stacks()
                .get(0)
                .stackStatusAsString();
        return status.equals("CREATE_COMPLETE") ? List.of() : List.of(hub + " " + status);
    }

    @Override
    public List<AccountRegion> accountRegions() {
        return List.of(hub);
    }

    @Override
    public Duration patience() {
        // Config evaluates within minutes; a new instance registers with SSM in a few more
        return Duration.ofMinutes(15);
    }

    @Override
    public AccountRegion member() {
        return hub;
    }

    @Override
    public String launchUntaggedInstance(String runTag) {
        String ami = aws.hub(SsmClient.class)
                .getParameter(r -> r.name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"))
                .parameter()
                .value();
        String id = aws.hub(Ec2Client.class)
                .runInstances(r -> r.imageId(ami)
                        .instanceType(InstanceType.T3_MICRO)
                        .minCount(1)
                        .maxCount(1)
                        .iamInstanceProfile(p -> p.arn(memberOutput("InstanceProfileArn")))
                        .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                                .tags(g -> g.key("patchpilot:acceptance").value(runTag))))
                .instances()
                .get(0)
                .instanceId();
        teardown.add(1, () -> {
            Ec2Client ec2 = aws.hub(Ec2Client.class);
            ec2.terminateInstances(r -> r.instanceIds(id));
            // the member stack's instance profile cannot go while the instance holds it
            ec2.waiter().waitUntilInstanceTerminated(r -> r.instanceIds(id));
        });
        return id;
    }

    private String memberOutput(String key) {
        return cfn.describeStacks(r -> r.stackName(MEMBER_STACK)).stacks().get(0).outputs().stream()
                .filter(o -> o.outputKey().equals(key))
                .findFirst()
                .orElseThrow()
                .outputValue();
    }

    @Override
    public void fireDefaultWindow(Instant at) {
        // a schedule rule cannot be fired on demand in AWS: send what it delivers at that time
        send(
                config.queues().schedules(),
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + at + "\"}");
    }

    @Override
    public void requestAndApproveEmergency(String requestJson, String requestId) {
        Assumptions.assumeFalse(
                approverRoleArn.isBlank(),
                "acceptance: no -Dpatchpilot.acceptance.approver-role-arn (a requester cannot approve its own run); "
                        + "the emergency step is skipped");
        send(config.queues().emergency(), requestJson);
        try (SqsClient approver = SqsClient.builder()
                .region(Region.of(hub.region()))
                .credentialsProvider(StsAssumeRoleCredentialsProvider.builder()
                        .stsClient(aws.hub(StsClient.class))
                        .refreshRequest(r -> r.roleArn(approverRoleArn).roleSessionName("patchpilot-acceptance"))
                        .build())
                .build()) {
            await().atMost(Duration.ofMinutes(2))
                    .until(() ->
                            ledger().get(RunKeys.pk(requestId), RunKeys.RUN).isPresent());
            String url = approver.getQueueUrl(r -> r.queueName(config.queues().approvals()))
                    .queueUrl();
            approver.sendMessage(
                    r -> r.queueUrl(url).messageBody("{\"requestId\":\"" + requestId + "\",\"decision\":\"approve\"}"));
        }
    }

    @Override
    public void runReport() {
        send(config.queues().schedules(), "{\"type\":\"report\"}");
    }

    private void send(String queue, String body) {
        SqsClient sqs = aws.hub(SqsClient.class);
        String url = sqs.getQueueUrl(r -> r.queueName(queue)).queueUrl();
        sqs.sendMessage(r -> r.queueUrl(url).messageBody(body));
    }

    /** The stacks, then what their Retain policies keep: buckets (emptied), the ledger table, the key. */
    private void deleteStacksAndRetained() {
        for (String stack : List.of(MEMBER_STACK, HUB_STACK)) {
            try {
                cfn.deleteStack(r -> r.stackName(stack));
                cfn.waiter().waitUntilStackDeleteComplete(r -> r.stackName(stack));
            } catch (RuntimeException e) {
                System.err.println("acceptance: deleting " + stack + ": " + e.getMessage());
            }
        }
        // the service's own schedule rules for windows on the hub's default bus
        EventBridgeClient events = aws.hub(EventBridgeClient.class);
        events.listRules(r -> r.namePrefix("patchpilot-window-")).rules().forEach(rule -> {
            List<String> ids = events.listTargetsByRule(r -> r.rule(rule.name())).targets().stream()
                    .map(t -> t.id())
                    .toList();
            if (!ids.isEmpty()) events.removeTargets(r -> r.rule(rule.name()).ids(ids));
            events.deleteRule(r -> r.name(rule.name()));
        });
        S3Client s3 = aws.hub(S3Client.class);
        for (String key : List.of(
                "InventoryBucketName",
                "ReportsBucketName",
                "PatchLogsBucketName",
                "AthenaResultsBucketName",
                "OverrideListsBucketName")) {
            String bucket = outputs.get(key);
            if (bucket == null) continue;
            try {
                s3.listObjectVersionsPaginator(r -> r.bucket(bucket)).forEach(page -> {
                    List<ObjectIdentifier> ids = new ArrayList<>();
                    page.versions()
                            .forEach(v -> ids.add(ObjectIdentifier.builder()
                                    .key(v.key())
                                    .versionId(v.versionId())
                                    .build()));
                    page.deleteMarkers()
                            .forEach(v -> ids.add(ObjectIdentifier.builder()
                                    .key(v.key())
                                    .versionId(v.versionId())
                                    .build()));
                    if (!ids.isEmpty()) s3.deleteObjects(r -> r.bucket(bucket).delete(d -> d.objects(ids)));
                });
                s3.deleteBucket(r -> r.bucket(bucket));
            } catch (RuntimeException e) {
                System.err.println("acceptance: deleting bucket " + bucket + ": " + e.getMessage());
            }
        }
        try {
            aws.hub(DynamoDbClient.class)
                    .deleteTable(r -> r.tableName(config == null ? "patchpilot-ledger" : config.ledgerTable()));
        } catch (RuntimeException e) {
            System.err.println("acceptance: deleting the ledger table: " + e.getMessage());
        }
        String key = outputs.get("InventoryKeyArn");
        if (key != null) {
            try (KmsClient kms = KmsClient.builder()
                    .region(Region.of(hub.region()))
                    .credentialsProvider(DefaultCredentialsProvider.builder().build())
                    .build()) {
                kms.scheduleKeyDeletion(r -> r.keyId(key).pendingWindowInDays(7));
            } catch (RuntimeException e) {
                System.err.println("acceptance: scheduling the key's deletion: " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        for (Runnable step : teardown) {
            try {
                step.run();
            } catch (RuntimeException e) {
                System.err.println("acceptance: teardown step failed: " + e.getMessage());
            }
        }
        if (aws != null) aws.close();
    }
}
