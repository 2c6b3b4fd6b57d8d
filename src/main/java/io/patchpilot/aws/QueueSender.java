package io.patchpilot.aws;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * Sends messages to one of the hub's queues (its URL looked up once). On {@code patchpilot-work}
 * long work is a chain of short steps, each scheduling its continuation, delayed when it waits
 * on AWS (no thread waits); operators' commands send their messages the same way.
 */
public final class QueueSender {
    private static final int MAX_DELAY_SECONDS = 900;
    private final AwsClients aws;
    private final String queue;
    private volatile String url;

    public QueueSender(AwsClients aws, String queue) {
        this.aws = aws;
        this.queue = queue;
    }

    @AwsActions(
            value = {"sqs:GetQueueUrl", "sqs:SendMessage"},
            principal = AwsActions.Principal.HUB)
    public void send(List<String> bodies) {
        SqsClient sqs = aws.hub(SqsClient.class);
        for (int i = 0; i < bodies.size(); i += 10) {
            List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int j = i; j < Math.min(bodies.size(), i + 10); j++) {
                entries.add(SendMessageBatchRequestEntry.builder()
                        .id(Integer.toString(j - i))
                        .messageBody(bodies.get(j))
                        .build());
            }
            SendMessageBatchResponse r =
                    sqs.sendMessageBatch(b -> b.queueUrl(url()).entries(entries));
            if (!r.failed().isEmpty())
                throw new IllegalStateException("could not queue " + r.failed().size() + " work items: "
                        + r.failed().get(0).message());
        }
    }

    public void send(String body) {
        send(List.of(body));
    }

    /** A continuation delivered after {@code delaySeconds} (at most 15 minutes, SQS's limit). */
    @AwsActions(
            value = {"sqs:GetQueueUrl", "sqs:SendMessage"},
            principal = AwsActions.Principal.HUB)
    public void sendLater(String body, int delaySeconds) {
        int delay = Math.max(0, Math.min(MAX_DELAY_SECONDS, delaySeconds));
        aws.hub(SqsClient.class)
                .sendMessage(r -> r.queueUrl(url()).messageBody(body).delaySeconds(delay));
    }

    private String url() {
        String u = url;
        if (u == null) {
            u = aws.hub(SqsClient.class).getQueueUrl(r -> r.queueName(queue)).queueUrl();
            url = u;
        }
        return u;
    }
}
