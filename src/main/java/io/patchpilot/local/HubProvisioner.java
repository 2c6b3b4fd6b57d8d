package io.patchpilot.local;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.Target;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Creates the hub's infrastructure in the local AWS, with the names and shapes of the hub stack
 * in {@code deploy/}: every queue with its DLQ and redrive, the ledger table, the buckets, the
 * central event bus with rules to the queues, and in each member account × region the rule that
 * forwards Config compliance changes and self-service requests to the hub bus. Local mode only:
 * in AWS, {@code deploy/} creates all of this and the service creates nothing.
 */
public final class HubProvisioner {
    public static final String MEMBER_FORWARD_RULE = "patchpilot-forward-to-hub";

    private final AwsClients aws;
    private final PatchpilotConfig config;
    private final int visibilitySeconds;

    public HubProvisioner(AwsClients aws, PatchpilotConfig config, int visibilitySeconds) {
        this.aws = aws;
        this.config = config;
        this.visibilitySeconds = visibilitySeconds;
    }

    public void provisionHub() {
        createQueues();
        createLedgerTable();
        createBuckets();
        createHubBusAndRules();
    }

    /** Local operators for emergency runs (names in application-local.properties), each with an access key. */
    public static final List<String> LOCAL_OPERATORS = List.of("oncall-requester", "oncall-approver");
    /** A sample InstallOverrideList for emergency requests, in each allowed override-list bucket. */
    public static final String SAMPLE_OVERRIDE_LIST = "overrides/critical-2026-11.yaml";

    public void provisionEmergencyOperators(List<String> overrideBuckets) {
        IamClient iam = aws.hub(IamClient.class, "aws-global");
        for (String user : LOCAL_OPERATORS) {
            iam.createUser(r -> r.userName(user));
            iam.createAccessKey(r -> r.userName(user));
        }
        S3Client s3 = aws.hub(S3Client.class);
        for (String bucket : overrideBuckets) {
            s3.createBucket(r -> r.bucket(bucket));
            s3.putObject(
                    r -> r.bucket(bucket).key(SAMPLE_OVERRIDE_LIST),
                    RequestBody.fromString("patches:\n  - id: 'ALAS2-2026-2101'\n  - id: 'KB5031356'\n"));
        }
    }

    private void createQueues() {
        SqsClient sqs = aws.hub(SqsClient.class);
        for (String queue : config.queues().all()) {
            String dlq = PatchpilotConfig.Queues.deadLetterQueueOf(queue);
            sqs.createQueue(
                    r -> r.queueName(dlq).attributes(Map.of(QueueAttributeName.MESSAGE_RETENTION_PERIOD, "1209600")));
            String redrive = "{\"deadLetterTargetArn\":\"" + queueArn(dlq) + "\",\"maxReceiveCount\":\""
                    + config.queues().maxReceiveCount() + "\"}";
            sqs.createQueue(r -> r.queueName(queue)
                    .attributes(Map.of(
                            QueueAttributeName.VISIBILITY_TIMEOUT,
                            Integer.toString(visibilitySeconds),
                            QueueAttributeName.REDRIVE_POLICY,
                            redrive)));
        }
    }

    private void createLedgerTable() {
        DynamoDbClient ddb = aws.hub(DynamoDbClient.class);
        ddb.createTable(r -> r.tableName(config.ledgerTable())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        AttributeDefinition.builder()
                                .attributeName("pk")
                                .attributeType(ScalarAttributeType.S)
                                .build(),
                        AttributeDefinition.builder()
                                .attributeName("sk")
                                .attributeType(ScalarAttributeType.S)
                                .build())
                .keySchema(
                        KeySchemaElement.builder()
                                .attributeName("pk")
                                .keyType(KeyType.HASH)
                                .build(),
                        KeySchemaElement.builder()
                                .attributeName("sk")
                                .keyType(KeyType.RANGE)
                                .build()));
    }

    private void createBuckets() {
        S3Client s3 = aws.hub(S3Client.class);
        for (String bucket : config.buckets().all()) s3.createBucket(r -> r.bucket(bucket));
    }

    private void createHubBusAndRules() {
        EventBridgeClient events = aws.hub(EventBridgeClient.class);
        events.createEventBus(r -> r.name(config.eventBus()));
        rule(
                events,
                "patchpilot-config-events",
                "{\"source\":[\"aws.config\"],\"detail-type\":[\"Config Rules Compliance Change\"]}",
                config.queues().configEvents());
        rule(
                events,
                "patchpilot-self-service",
                "{\"source\":[\"patchpilot.self-service\"],\"detail-type\":[\"Window Request\"]}",
                config.queues().selfService());
    }

    private void rule(EventBridgeClient events, String name, String pattern, String queue) {
        events.putRule(r -> r.name(name).eventBusName(config.eventBus()).eventPattern(pattern));
        events.putTargets(r -> r.rule(name)
                .eventBusName(config.eventBus())
                .targets(Target.builder().id(queue).arn(queueArn(queue)).build()));
    }

    /** In a member account and region: forward the events patchpilot consumes to the hub bus. */
    public void provisionMember(AccountRegion target) {
        provisionInstanceProfile(target);
        EventBridgeClient events = aws.member(EventBridgeClient.class, target, "provision");
        events.putRule(r ->
                r.name(MEMBER_FORWARD_RULE).eventPattern("{\"source\":[\"aws.config\",\"patchpilot.self-service\"]}"));
        events.putTargets(r -> r.rule(MEMBER_FORWARD_RULE)
                .targets(Target.builder()
                        .id("patchpilot-hub")
                        .arn(hubBusArn())
                        .roleArn("arn:aws:iam::" + target.account() + ":role/patchpilot-event-forwarder")
                        .build()));
    }

    /** The prefix the member StackSet's Resource Data Sync writes under (hub.yaml's InventoryPrefix). */
    public static final String INVENTORY_PREFIX = "inventory";

    public void provisionInventorySync(AccountRegion target) {
        aws.member(software.amazon.awssdk.services.ssm.SsmClient.class, target, "provision")
                .createResourceDataSync(r -> r.syncName("patchpilot-inventory")
                        .s3Destination(d -> d.bucketName(config.buckets().inventory())
                                .region(config.hub().region())
                                .prefix(INVENTORY_PREFIX)
                                .syncFormat("JsonSerDe")));
    }

    /**
     * The member StackSet's instance profile (PatchpilotManagedInstance: SSM core), which AMI builds
     * launch their temporary instance with when the group's launch template names none. IAM is
     * global: the first region of an account creates it.
     */
    private void provisionInstanceProfile(AccountRegion target) {
        software.amazon.awssdk.services.iam.IamClient iam = aws.member(
                software.amazon.awssdk.services.iam.IamClient.class,
                new AccountRegion(target.account(), "aws-global"),
                "provision");
        String name = "PatchpilotManagedInstance";
        synchronized (HubProvisioner.class) {
            if (!iam.listInstanceProfiles().instanceProfiles().stream()
                    .anyMatch(p -> p.instanceProfileName().equals(name))) {
                iam.createRole(
                        r -> r.roleName(name + "Role")
                                .assumeRolePolicyDocument(
                                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"));
                iam.createInstanceProfile(r -> r.instanceProfileName(name));
                iam.addRoleToInstanceProfile(r -> r.instanceProfileName(name).roleName(name + "Role"));
            }
        }
    }

    public String hubBusArn() {
        return "arn:aws:events:" + config.hub().region() + ":" + LocalAws.HUB_ACCOUNT + ":event-bus/"
                + config.eventBus();
    }

    public String queueArn(String queue) {
        return "arn:aws:sqs:" + config.hub().region() + ":" + LocalAws.HUB_ACCOUNT + ":" + queue;
    }
}
