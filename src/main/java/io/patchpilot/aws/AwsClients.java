package io.patchpilot.aws;

import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.metrics.AwsCallMetrics;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.athena.AthenaClient;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.multipart.MultipartConfiguration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.transfer.s3.S3TransferManager;

/**
 * The one place SDK clients are built: per (service, account, region), sharing one HTTP
 * connection pool, with the SDK's standard retry strategy (throttling backs off in the client
 * layer, not in routes). Member accounts are reached only through the assumed member role with
 * ExternalId; the SDK's assume-role provider caches the session and refreshes it before expiry.
 */
public final class AwsClients implements AutoCloseable {
    private static final Map<Class<?>, Supplier<AwsClientBuilder<?, ?>>> BUILDERS = Map.ofEntries(
            Map.entry(Ec2Client.class, Ec2Client::builder),
            Map.entry(SsmClient.class, SsmClient::builder),
            Map.entry(AutoScalingClient.class, AutoScalingClient::builder),
            Map.entry(ConfigClient.class, ConfigClient::builder),
            Map.entry(StsClient.class, StsClient::builder),
            Map.entry(OrganizationsClient.class, OrganizationsClient::builder),
            Map.entry(DynamoDbClient.class, DynamoDbClient::builder),
            Map.entry(S3Client.class, () -> S3Client.builder().forcePathStyle(true)),
            Map.entry(SqsClient.class, SqsClient::builder),
            Map.entry(EventBridgeClient.class, EventBridgeClient::builder),
            Map.entry(AthenaClient.class, AthenaClient::builder),
            Map.entry(CloudFormationClient.class, CloudFormationClient::builder),
            Map.entry(IamClient.class, IamClient::builder));

    private final PatchpilotConfig config;
    private final AwsCredentialsProvider hubCredentials;
    private final SdkHttpClient http;
    private final Map<String, SdkClient> clients = new ConcurrentHashMap<>();
    private final Map<String, AwsCredentialsProvider> memberCredentials = new ConcurrentHashMap<>();
    private volatile String hubAccountId;
    private S3AsyncClient s3Async;
    private S3TransferManager transfers;

    public AwsClients(PatchpilotConfig config) {
        this.config = config;
        this.hubCredentials = config.local()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))
                : DefaultCredentialsProvider.builder().build();
        this.http = ApacheHttpClient.builder()
                .maxConnections(config.endpoints().maxConnections())
                .connectionTimeout(Duration.ofSeconds(5))
                .socketTimeout(Duration.ofSeconds(60))
                .build();
        config.hub().accountId().ifPresent(id -> this.hubAccountId = id);
    }

    /** A client acting as the hub itself, in the hub region. */
    public <C extends SdkClient> C hub(Class<C> type) {
        return hub(type, config.hub().region());
    }

    public <C extends SdkClient> C hub(Class<C> type, String region) {
        return client(type, "hub", region, hubCredentials);
    }

    /**
     * A client acting in a member account (through its assumed role) in one region. The hub's
     * own account is reached with the hub's credentials.
     */
    public <C extends SdkClient> C member(Class<C> type, AccountRegion target, String job) {
        if (target.account().equals(hubAccountId())) return hub(type, target.region());
        return client(type, target.account() + "/" + job, target.region(), memberCredentials(target.account(), job));
    }

    /** The assumed-role credentials of a member account; session name {@code patchpilot-<job>}. */
    @AwsActions(value = "sts:AssumeRole", principal = AwsActions.Principal.HUB)
    public AwsCredentialsProvider memberCredentials(String account, String job) {
        return memberCredentials.computeIfAbsent(
                account + "/" + job,
                k -> StsAssumeRoleCredentialsProvider.builder()
                        .stsClient(hub(StsClient.class))
                        .refreshRequest(r -> r.roleArn(memberRoleArn(account))
                                .roleSessionName("patchpilot-" + job)
                                .externalId(config.member().externalId())
                                .durationSeconds(config.member().sessionDurationSeconds()))
                        .asyncCredentialUpdateEnabled(false)
                        .build());
    }

    public String memberRoleArn(String account) {
        return "arn:" + partition(config.hub().region()) + ":iam::" + account + ":role/"
                + config.member().roleName();
    }

    /** The hub's account id: configured, or asked of STS once. */
    @AwsActions(value = "sts:GetCallerIdentity", principal = AwsActions.Principal.HUB)
    public String hubAccountId() {
        String id = hubAccountId;
        if (id == null) {
            id = hub(StsClient.class).getCallerIdentity().account();
            hubAccountId = id;
        }
        return id;
    }

    public static String partition(String region) {
        return Optional.ofNullable(Region.of(region).metadata())
                .map(m -> m.partition().id())
                .orElse("aws");
    }

    @SuppressWarnings("unchecked")
    private <C extends SdkClient> C client(
            Class<C> type, String principal, String region, AwsCredentialsProvider credentials) {
        return (C) clients.computeIfAbsent(type.getSimpleName() + "|" + principal + "|" + region, k -> {
            Supplier<AwsClientBuilder<?, ?>> builder = BUILDERS.get(type);
            if (builder == null) throw new IllegalArgumentException("no client builder for " + type.getName());
            AwsClientBuilder<?, ?> b = builder.get()
                    .region(Region.of(region))
                    .credentialsProvider(credentials)
                    .overrideConfiguration(
                            o -> o.retryStrategy(retryStrategy()).addExecutionInterceptor(new AwsCallMetrics()));
            endpointFor(type).ifPresent(b::endpointOverride);
            ((AwsSyncClientBuilder<?, ?>) b).httpClient(http);
            return (SdkClient) b.build();
        });
    }

    /**
     * Builds a hub client of every kind this class makes, calling nothing: the SDK's classes are
     * then loaded and initialized (seconds of a cold start), e.g. while local mode waits for the
     * local AWS.
     */
    public void buildAll() {
        BUILDERS.keySet().forEach(type -> hub(type.asSubclass(SdkClient.class)));
    }

    /**
     * A retry strategy of one client, so one client's token bucket (and, adaptive, its send rate)
     * is that of one (service, principal, region): a throttled member account backs off alone.
     */
    private RetryStrategy retryStrategy() {
        int attempts = config.endpoints().maxAttempts();
        if (config.endpoints().adaptiveRetries())
            return AwsRetryStrategy.adaptiveRetryStrategy().toBuilder()
                    .maxAttempts(attempts)
                    .build();
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(attempts)
                .build();
    }

    /** The part size of the hub's multipart uploads, and the size from which a file is uploaded in parts. */
    public static final long PART_BYTES = 8L * 1024 * 1024;

    /**
     * The hub's transfers of large files (report CSVs): S3's multipart upload, parts sent in
     * parallel by the SDK's Java-based multipart client, as a user's {@code S3TransferManager} does.
     */
    public synchronized S3TransferManager hubTransfers() {
        if (transfers == null) {
            s3Async = s3Multipart(
                            Region.of(config.hub().region()),
                            hubCredentials,
                            endpointFor(S3Client.class),
                            ClientOverrideConfiguration.builder()
                                    .retryStrategy(retryStrategy())
                                    .addExecutionInterceptor(new AwsCallMetrics()))
                    .build();
            transfers = S3TransferManager.builder().s3Client(s3Async).build();
        }
        return transfers;
    }

    /** An S3 async client that uploads files of {@link #PART_BYTES} or more in parallel parts (path-style). */
    public static S3AsyncClientBuilder s3Multipart(
            Region region,
            AwsCredentialsProvider credentials,
            Optional<URI> endpoint,
            ClientOverrideConfiguration.Builder override) {
        var b = S3AsyncClient.builder()
                .region(region)
                .credentialsProvider(credentials)
                .forcePathStyle(true)
                .multipartEnabled(true)
                .multipartConfiguration(MultipartConfiguration.builder()
                        .minimumPartSizeInBytes(PART_BYTES)
                        .thresholdInBytes(PART_BYTES)
                        .build());
        endpoint.ifPresent(e -> {
            b.endpointOverride(e);
            override.addExecutionInterceptor(new NoExpectContinue());
        });
        return b.overrideConfiguration(override.build());
    }

    /**
     * The local AWS (a Python HTTP server) answers {@code Expect: 100-continue} with an interim
     * {@code 100 Continue} that the SDK's Netty client takes for the final answer of an UploadPart
     * ("S3Exception, Status Code: 100"); against a local endpoint the header is left out and the
     * part sent at once. S3 itself is left the SDK's default.
     */
    static final class NoExpectContinue implements ExecutionInterceptor {
        @Override
        public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
            return context.httpRequest().toBuilder().removeHeader("Expect").build();
        }
    }

    /** Signs S3 links with the hub's credentials (path-style, like the S3 client). */
    public S3Presigner s3Presigner() {
        var b = S3Presigner.builder()
                .region(Region.of(config.hub().region()))
                .credentialsProvider(hubCredentials)
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build());
        endpointFor(S3Client.class).ifPresent(b::endpointOverride);
        return b.build();
    }

    private Optional<URI> endpointFor(Class<?> type) {
        if (type == SqsClient.class)
            return config.endpoints().sqs().or(() -> config.endpoints().aws());
        return config.endpoints().aws();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (transfers != null) transfers.close();
            if (s3Async != null) s3Async.close();
            transfers = null;
            s3Async = null;
        }
        clients.values().forEach(SdkClient::close);
        clients.clear();
        http.close();
    }
}
