package io.patchpilot.errors;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.metrics.Metrics;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Moves a permanently failed SQS message (or one still failing transiently on its last receive)
 * to {@code <source queue>-dlq} with its original body and attributes plus
 * {@code patchpilot-error} (the one-line reason) and {@code patchpilot-source-queue}. Sent
 * synchronously before the source message is deleted, so a crash in between can only duplicate
 * the dead letter, never lose the message.
 */
public final class DeadLetters {
    public static final String ERROR_ATTRIBUTE = "patchpilot-error";
    public static final String SOURCE_QUEUE_ATTRIBUTE = "patchpilot-source-queue";
    /**
     * A step that gave up marks its dead letter with this token (also written to its ledger item),
     * so that the letter sent back by {@code dlq redrive}, and no stray copy of the step, resumes it.
     */
    public static final String GIVE_UP_ATTRIBUTE = "patchpilot-give-up";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private final SqsClient sqs;

    private final SqsAcknowledger acks;

    public DeadLetters(SqsClient sqs, SqsAcknowledger acks) {
        this.sqs = sqs;
        this.acks = acks;
    }

    /** A permanent failure: to the DLQ with its reason. */
    public void send(Exchange exchange) {
        deadLetter(exchange, reason(exchange));
        // routes that acknowledge themselves (deleteAfterRead=false) need the source deleted here
        if (SqsAcknowledger.manual(exchange)) acks.ack(exchange).join();
    }

    /**
     * A transient failure on the message's last allowed receive: to the DLQ with its last error
     * now, rather than left for SQS redrive, which would move it there without any reason. The
     * route does not handle the failure, so the source is deleted here.
     */
    public void giveUp(Exchange exchange, int receives) {
        deadLetter(exchange, "still failing after " + receives + " receives: " + reason(exchange));
        acks.ack(exchange).join();
    }

    private void deadLetter(Exchange exchange, String reason) {
        deadLetter(
                sourceQueue(exchange),
                exchange.getIn().getBody(String.class),
                exchange.getIn().getHeader(Sqs2Constants.MESSAGE_ATTRIBUTES),
                reason,
                exchange.getIn().getHeader(Sqs2Constants.MESSAGE_ID, String.class));
    }

    /**
     * A message of {@code sourceQueue} (its body and message attributes as received) to its DLQ
     * with {@code reason}; for a step that decides itself to give up and still finishes its work
     * (the caller deletes the source message, after this returns).
     */
    @AwsActions(value = "sqs:SendMessage", principal = AwsActions.Principal.HUB)
    public void deadLetter(String sourceQueue, String body, Object messageAttributes, String reason, String messageId) {
        Map<String, MessageAttributeValue> attributes = new HashMap<>();
        if (messageAttributes instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (v instanceof MessageAttributeValue mav && attributes.size() < 8) attributes.put(k.toString(), mav);
            });
        }
        attributes.put(ERROR_ATTRIBUTE, text(reason));
        attributes.put(SOURCE_QUEUE_ATTRIBUTE, text(sourceQueue));
        String dlq = PatchpilotConfig.Queues.deadLetterQueueOf(sourceQueue);
        String url = acks.queueUrl(dlq);
        sqs.sendMessage(r -> r.queueUrl(url)
                .messageBody(body == null || body.isEmpty() ? "(empty)" : body)
                .messageAttributes(attributes));
        Metrics.deadLettered(sourceQueue);
        LOG.warn("Rejected message {} from {} to {}: {}", messageId, sourceQueue, dlq, reason);
    }

    /** A String message attribute. */
    public static MessageAttributeValue text(String value) {
        return MessageAttributeValue.builder()
                .dataType("String")
                .stringValue(value)
                .build();
    }

    static String sourceQueue(Exchange exchange) {
        if (exchange.getFromEndpoint() instanceof Sqs2Endpoint e)
            return e.getConfiguration().getQueueName();
        throw new IllegalStateException(
                "dead letters are for SQS routes; route " + exchange.getFromRouteId() + " is not one");
    }

    static String reason(Exchange exchange) {
        Throwable t = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (t == null) return "rejected";
        PermanentFailure pf = findPermanent(t);
        if (pf != null) return pf.getMessage();
        return PermanentFailure.oneLine(t.getClass().getSimpleName() + ": " + t.getMessage());
    }

    private static PermanentFailure findPermanent(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PermanentFailure pf) return pf;
        }
        return null;
    }
}
