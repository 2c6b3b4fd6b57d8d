package io.patchpilot.errors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.QueueDepth;
import io.patchpilot.local.LocalAws;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The shared routeConfiguration in routes/error-handling.camel.yaml against a real local SQS
 * (ElasticMQ): permanent failures go to the DLQ with their reason and leave the source queue;
 * transient failures stay for SQS to redeliver, later each time, and go to the DLQ with their last
 * error on the last allowed receive; a slow message keeps its visibility while it is processed.
 */
class SqsErrorHandlingRouteTest {
    private SQSRestServer sqsServer;
    private SqsClient sqs;
    private CamelContext camel;
    private String sourceUrl;
    private String dlqUrl;
    private String slowUrl;
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final Map<String, List<Long>> receivedAt = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        int port = LocalAws.freePort();
        sqsServer = SQSRestServerBuilder.withInterface("127.0.0.1")
                .withPort(port)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", port, ""))
                .withAWSAccountId(LocalAws.HUB_ACCOUNT)
                .withAWSRegion(LocalAws.HUB_REGION)
                .start();
        sqsServer.waitUntilStarted();
        sqs = SqsClient.builder()
                .endpointOverride(URI.create("http://127.0.0.1:" + port))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .build();
        dlqUrl = sqs.createQueue(r -> r.queueName("orders-dlq")).queueUrl();
        slowUrl = sqs.createQueue(
                        r -> r.queueName("slow-orders")
                                .attributes(
                                        Map.of(
                                                QueueAttributeName.VISIBILITY_TIMEOUT,
                                                "2",
                                                QueueAttributeName.REDRIVE_POLICY,
                                                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:orders-dlq\",\"maxReceiveCount\":\"3\"}")))
                .queueUrl();
        sourceUrl = sqs.createQueue(
                        r -> r.queueName("orders")
                                .attributes(
                                        Map.of(
                                                QueueAttributeName.VISIBILITY_TIMEOUT,
                                                "1",
                                                QueueAttributeName.REDRIVE_POLICY,
                                                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:orders-dlq\",\"maxReceiveCount\":\"3\"}")))
                .queueUrl();

        camel = new DefaultCamelContext();
        camel.getRegistry().bind("sqsClient", sqs);
        SqsAcknowledger acks = new SqsAcknowledger(sqs, 20, true);
        camel.getRegistry().bind("sqsAcknowledger", acks);
        DeadLetters deadLetters = new DeadLetters(sqs, acks);
        camel.getRegistry().bind("deadLetters", deadLetters);
        camel.getRegistry()
                .bind("transientBackoff", new TransientBackoff(sqs, acks, Duration.ofSeconds(1), deadLetters, 3));
        PluginHelper.getRoutesLoader(camel)
                .loadRoutes(ResourceHelper.resolveResource(camel, "file:routes/error-handling.camel.yaml"));
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("aws2-sqs:orders?waitTimeSeconds=1&messageAttributeNames=All&attributeNames=All")
                        .routeId("orders-test-consumer")
                        .routeConfigurationId("sqs-error-handling")
                        .process(e -> {
                            String body = e.getIn().getBody(String.class);
                            attempts.computeIfAbsent(body, b -> new AtomicInteger())
                                    .incrementAndGet();
                            receivedAt
                                    .computeIfAbsent(body, b -> new CopyOnWriteArrayList<>())
                                    .add(System.nanoTime());
                            if (body.startsWith("bad"))
                                throw new PermanentFailure("quantity: 'ten' is not a number\nsecond line");
                            if (body.startsWith("flaky")) throw new IllegalStateException("upstream timed out");
                        })
                        .to("mock:done");
                // like the step queues' routes: one message per poll (its visibility is extended while it is processed)
                from("aws2-sqs:slow-orders?waitTimeSeconds=1&maxMessagesPerPoll=1&messageAttributeNames=All&attributeNames=All")
                        .routeId("slow-orders-test-consumer")
                        .routeConfigurationId("sqs-error-handling")
                        .process(
                                e -> attempts.computeIfAbsent(e.getIn().getBody(String.class), b -> new AtomicInteger())
                                        .incrementAndGet())
                        .delay(6000) // three visibility timeouts of work
                        .to("mock:done");
            }
        });
        camel.start();
    }

    @AfterEach
    void stop() {
        camel.stop();
        sqs.close();
        sqsServer.stopAndWait();
    }

    @Test
    void permanent_failure_goes_to_the_dlq_with_its_reason_and_leaves_the_source_queue() {
        NotifyBuilder done = new NotifyBuilder(camel).whenFailed(1).create();
        sqs.sendMessage(r -> r.queueUrl(sourceUrl).messageBody("bad order"));

        List<Message> dead = awaitMessages(dlqUrl, 1);
        Message m = dead.get(0);
        assertEquals("bad order", m.body());
        assertEquals(
                "quantity: 'ten' is not a number second line",
                m.messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE).stringValue());
        assertEquals(
                "orders",
                m.messageAttributes().get(DeadLetters.SOURCE_QUEUE_ATTRIBUTE).stringValue());
        assertFalse(done.matches(1, TimeUnit.SECONDS), "a handled permanent failure does not fail the exchange");
        await().atMost(Duration.ofSeconds(10)).until(() -> queueDepth(sourceUrl) == 0);
        assertEquals(1, attempts.get("bad order").get(), "rejected once, never retried");
    }

    @Test
    void transient_failure_is_redelivered_later_each_time_then_dead_lettered_with_its_last_error_on_the_last_receive() {
        sqs.sendMessage(r -> r.queueUrl(sourceUrl).messageBody("flaky order"));

        List<Message> dead = awaitMessages(dlqUrl, 1);
        assertEquals("flaky order", dead.get(0).body());
        assertEquals(
                "still failing after 3 receives: IllegalStateException: upstream timed out",
                dead.get(0).messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE).stringValue(),
                "given up with a reason, not redriven without one");
        assertEquals(
                "orders",
                dead.get(0)
                        .messageAttributes()
                        .get(DeadLetters.SOURCE_QUEUE_ATTRIBUTE)
                        .stringValue());
        assertEquals(3, attempts.get("flaky order").get(), "received maxReceiveCount times");
        // base 1 s: invisible 1 s after the first failure, 2 s after the second (SQS never delivers sooner)
        List<Long> at = receivedAt.get("flaky order");
        assertTrue(at.get(1) - at.get(0) >= 900_000_000L, "first retry after the base wait");
        assertTrue(
                at.get(2) - at.get(1) >= 1_900_000_000L,
                "second retry after twice the base wait: " + (at.get(2) - at.get(1)) / 1_000_000 + " ms");
        await().atMost(Duration.ofSeconds(10)).until(() -> queueDepth(sourceUrl) == 0);
        assertEquals(
                1,
                dead.size()
                        + sqs.receiveMessage(r -> r.queueUrl(dlqUrl).waitTimeSeconds(2))
                                .messages()
                                .size(),
                "dead-lettered once");
    }

    @Test
    void a_message_processed_longer_than_its_visibility_timeout_is_not_delivered_again_meanwhile() {
        NotifyBuilder done = new NotifyBuilder(camel)
                .fromRoute("slow-orders-test-consumer")
                .whenCompleted(1)
                .create();
        sqs.sendMessage(r -> r.queueUrl(slowUrl).messageBody("slow order"));

        assertTrue(done.matches(30, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(10)).until(() -> queueDepth(slowUrl) == 0);
        assertEquals(
                1, attempts.get("slow order").get(), "one delivery although the work took three visibility timeouts");
        assertEquals(0, queueDepth(dlqUrl));
    }

    @Test
    void good_messages_are_processed_and_deleted() {
        NotifyBuilder done = new NotifyBuilder(camel).whenCompleted(3).create();
        for (int i = 0; i < 3; i++) {
            int n = i;
            sqs.sendMessage(r -> r.queueUrl(sourceUrl).messageBody("order " + n));
        }
        assertTrue(done.matches(20, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(10)).until(() -> queueDepth(sourceUrl) == 0);
        assertEquals(0, queueDepth(dlqUrl));
    }

    private List<Message> awaitMessages(String url, int n) {
        List<Message> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            got.addAll(sqs.receiveMessage(r -> r.queueUrl(url)
                            .maxNumberOfMessages(10)
                            .waitTimeSeconds(1)
                            .messageAttributeNames("All"))
                    .messages());
            return got.size() >= n;
        });
        return got;
    }

    private int queueDepth(String url) {
        return QueueDepth.of(sqs, url);
    }
}
