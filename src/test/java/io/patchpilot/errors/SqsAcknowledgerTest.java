package io.patchpilot.errors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.local.LocalAws;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * A message held past its queue's visibility timeout (a backlog in the tag batcher) stays hidden
 * from other consumers until it is acknowledged or released, against a real local SQS (ElasticMQ).
 */
class SqsAcknowledgerTest {
    private SQSRestServer server;
    private SqsClient sqs;
    private String url;
    private SqsAcknowledger acks;

    @BeforeEach
    void start() {
        int port = LocalAws.freePort();
        server = SQSRestServerBuilder.withInterface("127.0.0.1")
                .withPort(port)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", port, ""))
                .withAWSAccountId(LocalAws.HUB_ACCOUNT)
                .withAWSRegion(LocalAws.HUB_REGION)
                .start();
        server.waitUntilStarted();
        sqs = SqsClient.builder()
                .endpointOverride(URI.create("http://127.0.0.1:" + port))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .build();
        url = sqs.createQueue(r -> r.queueName("held").attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "2")))
                .queueUrl();
        acks = new SqsAcknowledger(sqs, 20, true);
    }

    @AfterEach
    void stop() {
        sqs.close();
        server.stopAndWait();
    }

    private List<Message> receive() {
        return sqs.receiveMessage(r -> r.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(0))
                .messages();
    }

    @Test
    void a_held_message_stays_invisible_past_its_timeout_until_released() {
        sqs.sendMessage(r -> r.queueUrl(url).messageBody("tag i-1"));
        Message m = receive().get(0);
        acks.hold(url, m.receiptHandle());
        // three timeouts long, nobody else receives it
        await().during(Duration.ofSeconds(6))
                .atMost(Duration.ofSeconds(8))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> receive().isEmpty());
        acks.release(m.receiptHandle());
        assertEquals(0, acks.heldCount());
        await().atMost(Duration.ofSeconds(6))
                .until(() -> receive().stream().anyMatch(x -> x.body().equals("tag i-1")));
    }

    @Test
    void an_acknowledged_message_is_deleted_and_no_longer_extended() {
        sqs.sendMessage(r -> r.queueUrl(url).messageBody("tag i-2"));
        Message m = receive().get(0);
        acks.hold(url, m.receiptHandle());
        acks.ack(url, m.receiptHandle()).join();
        assertEquals(0, acks.heldCount());
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(4))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> receive().isEmpty());
    }
}
