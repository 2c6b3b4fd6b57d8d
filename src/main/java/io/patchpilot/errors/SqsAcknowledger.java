package io.patchpilot.errors;

import io.patchpilot.aws.AwsActions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;

/**
 * Deletes consumed messages in batches of 10 (DeleteMessageBatch) for routes whose consumer has
 * {@code deleteAfterRead=false}: a message is acknowledged only once its work is done, and ten
 * acknowledgements cost one call instead of ten.
 */
public final class SqsAcknowledger {
    private static final int BATCH = 10;
    private final SqsClient sqs;
    private final long lingerMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(io.patchpilot.service.DaemonThreads.named("sqs-ack"));
    private final Map<String, List<Pending>> pending = new ConcurrentHashMap<>();
    private final Map<String, String> queueUrls = new ConcurrentHashMap<>();

    private record Pending(String receiptHandle, CompletableFuture<Void> done) {}

    public SqsAcknowledger(SqsClient sqs, long lingerMillis) {
        this.sqs = sqs;
        this.lingerMillis = lingerMillis;
    }

    /** Whether the exchange's consumer leaves deletion to us. */
    public static boolean manual(Exchange exchange) {
        return exchange.getFromEndpoint() instanceof Sqs2Endpoint e && !e.getConfiguration().isDeleteAfterRead();
    }

    /** Deletes the exchange's message (soon, batched); completes when it is deleted. */
    public CompletableFuture<Void> ack(Exchange exchange) {
        String handle = exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class);
        String queue = ((Sqs2Endpoint) exchange.getFromEndpoint()).getConfiguration().getQueueName();
        String url = queueUrls.computeIfAbsent(queue, q -> sqs.getQueueUrl(r -> r.queueName(q)).queueUrl());
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Pending> toSend = null;
        synchronized (this) {
            List<Pending> list = pending.computeIfAbsent(url, u -> new ArrayList<>());
            list.add(new Pending(handle, done));
            if (list.size() >= BATCH) {
                toSend = new ArrayList<>(list);
                list.clear();
            } else if (list.size() == 1) {
                timer.schedule(() -> flush(url), lingerMillis, TimeUnit.MILLISECONDS);
            }
        }
        if (toSend != null) delete(url, toSend);
        return done;
    }

    private void flush(String url) {
        List<Pending> toSend;
        synchronized (this) {
            List<Pending> list = pending.get(url);
            if (list == null || list.isEmpty()) return;
            toSend = new ArrayList<>(list);
            list.clear();
        }
        for (int i = 0; i < toSend.size(); i += BATCH) delete(url, toSend.subList(i, Math.min(toSend.size(), i + BATCH)));
    }

    @AwsActions(value = {"sqs:GetQueueUrl", "sqs:DeleteMessage"}, principal = AwsActions.Principal.HUB)
    private void delete(String url, List<Pending> batch) {
        try {
            List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i)).receiptHandle(batch.get(i).receiptHandle()).build());
            }
            DeleteMessageBatchResponse r = sqs.deleteMessageBatch(b -> b.queueUrl(url).entries(entries));
            // a failed delete only means the message comes back and is found already done
            batch.forEach(p -> p.done().complete(null));
            if (!r.failed().isEmpty()) {
                org.slf4j.LoggerFactory.getLogger(SqsAcknowledger.class).warn("{} of {} deletes failed on {}: {}",
                        r.failed().size(), batch.size(), url, r.failed().get(0).message());
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done().complete(null));
            org.slf4j.LoggerFactory.getLogger(SqsAcknowledger.class).warn("Deleting {} messages on {} failed: {}", batch.size(), url, e.getMessage());
        }
    }
}
