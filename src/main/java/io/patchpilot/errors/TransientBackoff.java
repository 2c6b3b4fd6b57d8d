package io.patchpilot.errors;

import io.patchpilot.aws.AwsActions;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A message that failed transiently comes back later each time: its visibility timeout becomes
 * base × 2^(receives − 1), capped at an hour. With the queue's 120 s and five receives before
 * redrive, an outage of about an hour (SMTP, Slack, an AWS service) is waited out instead of
 * filling the DLQ after ten minutes; the first retry is as quick as before. On its last allowed
 * receive a still failing message goes to the DLQ with its last error (redrive gives none).
 */
public final class TransientBackoff {
    static final Duration CAP = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(TransientBackoff.class);

    private final SqsClient sqs;
    private final SqsAcknowledger queues;
    private final Duration base;
    private final DeadLetters deadLetters;
    private final int maxReceiveCount;

    /** @param maxReceiveCount the queues' redrive maxReceiveCount: the receive on which to give up */
    public TransientBackoff(
            SqsClient sqs, SqsAcknowledger queues, Duration base, DeadLetters deadLetters, int maxReceiveCount) {
        this.sqs = sqs;
        this.queues = queues;
        this.base = base;
        this.deadLetters = deadLetters;
        this.maxReceiveCount = maxReceiveCount;
    }

    /** How long a message stays invisible after its {@code receives}-th receive failed. */
    static Duration delay(Duration base, int receives) {
        int doublings = Math.max(0, Math.min(20, receives - 1));
        Duration d = base.multipliedBy(1L << doublings);
        return d.compareTo(CAP) > 0 ? CAP : d;
    }

    /** SQS's ApproximateReceiveCount among the message's attributes; 1 when absent. */
    public static int receiveCount(Object sqsAttributes) {
        if (sqsAttributes instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (String.valueOf(e.getKey()).equals("ApproximateReceiveCount")) {
                    try {
                        return Integer.parseInt(String.valueOf(e.getValue()));
                    } catch (NumberFormatException ignored) {
                        return 1;
                    }
                }
            }
        }
        return 1;
    }

    /** Called for a transient failure of an SQS-consumed exchange, before the route gives it back. */
    @AwsActions(value = "sqs:ChangeMessageVisibility", principal = AwsActions.Principal.HUB)
    public void delay(Exchange exchange) {
        if (!(exchange.getFromEndpoint() instanceof Sqs2Endpoint endpoint)) return;
        String handle = exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class);
        if (handle == null) return;
        int receives = receiveCount(exchange.getIn().getHeader(Sqs2Constants.ATTRIBUTES));
        if (receives >= maxReceiveCount) {
            deadLetters.giveUp(exchange, receives);
            return;
        }
        queues.release(handle); // no longer kept hidden while processed: the backoff below decides
        Duration wait = delay(base, receives);
        String queue = endpoint.getConfiguration().getQueueName();
        try {
            String url = queues.queueUrl(queue);
            sqs.changeMessageVisibility(
                    r -> r.queueUrl(url).receiptHandle(handle).visibilityTimeout((int) wait.toSeconds()));
        } catch (RuntimeException e) {
            // SQS itself may be what is down: the queue's own visibility timeout applies then
            LOG.debug("Could not delay message on {}: {}", queue, e.getMessage());
        }
    }
}
