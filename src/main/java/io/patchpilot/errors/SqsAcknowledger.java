package io.patchpilot.errors;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.DaemonThreads;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Deletes consumed messages in batches of 10 (DeleteMessageBatch) for routes whose consumer has
 * {@code deleteAfterRead=false}: a message is acknowledged only once its work is done, and ten
 * acknowledgements cost one call instead of ten. The calls run on threads of their own, several
 * at once: a tag batch acknowledging 200 messages does not wait for 20 calls one after another.
 *
 * <p>A message held longer than its visibility timeout (the tag batcher holds up to
 * {@code max-in-flight} of them while it works through a backlog) would become visible again and
 * be handled a second time, by this or another replica, at the same time: so while a message is
 * {@linkplain #hold held}, its visibility is extended (ChangeMessageVisibilityBatch) to its queue's
 * timeout every third of that timeout, until it is acknowledged or released. A replica that dies
 * stops extending, and its messages come back within one timeout.
 */
public final class SqsAcknowledger {
    private static final int BATCH = 10;
    private final SqsClient sqs;
    private final long lingerMillis;
    /** Deletes from several threads, as a consumer of its own would: whoever acknowledges never waits on SQS. */
    private static final int DELETERS = 8;

    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("sqs-ack"));
    private final ExecutorService deleters = Executors.newFixedThreadPool(DELETERS, DaemonThreads.named("sqs-delete"));
    private final Map<String, List<Pending>> pending = new ConcurrentHashMap<>();
    private final Map<String, String> queueUrls = new ConcurrentHashMap<>();

    /** Held messages by receipt handle: queue URL and when their visibility was last set (nanoTime). */
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    /** Each queue's own visibility timeout (seconds), as SQS reports it. */
    private final Map<String, Integer> visibility = new ConcurrentHashMap<>();

    private final ScheduledExecutorService heartbeat;

    private record Pending(String receiptHandle, CompletableFuture<Void> done) {}

    private record Held(String url, long since) {}

    /** Without visibility extension: for consumers that never hold a message long. */
    public SqsAcknowledger(SqsClient sqs, long lingerMillis) {
        this(sqs, lingerMillis, false);
    }

    /** @param extendVisibility whether held messages are kept hidden past their queue's visibility timeout */
    public SqsAcknowledger(SqsClient sqs, long lingerMillis, boolean extendVisibility) {
        this.sqs = sqs;
        this.lingerMillis = lingerMillis;
        if (extendVisibility) {
            heartbeat = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("sqs-visibility"));
            heartbeat.scheduleWithFixedDelay(this::extendHeld, 500, 500, TimeUnit.MILLISECONDS);
        } else {
            heartbeat = null;
        }
    }

    /** Keeps the exchange's message from other consumers while this process works on it, until {@link #ack} or {@link #release}. */
    public void hold(Exchange exchange) {
        hold(url(exchange), exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class));
    }

    @AwsActions(value = "sqs:GetQueueAttributes", principal = AwsActions.Principal.HUB)
    public void hold(String queueUrl, String receiptHandle) {
        if (heartbeat == null || receiptHandle == null) return;
        visibility.computeIfAbsent(
                queueUrl,
                u -> Integer.parseInt(
                        sqs.getQueueAttributes(r -> r.queueUrl(u).attributeNames(QueueAttributeName.VISIBILITY_TIMEOUT))
                                .attributes()
                                .get(QueueAttributeName.VISIBILITY_TIMEOUT)));
        held.put(receiptHandle, new Held(queueUrl, System.nanoTime()));
    }

    /**
     * For consumers that delete on completion (the step and command queues): keeps the message
     * hidden while this exchange works on it, however long its AWS calls back off, and stops when
     * the exchange completes. The queue's own visibility timeout applies, as SQS reports it. Routes
     * that acknowledge themselves hold and release their messages on their own.
     */
    public void holdWhileProcessing(Exchange exchange) {
        if (heartbeat == null || manual(exchange)) return;
        String handle = exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class);
        if (handle == null) return;
        hold(url(exchange), handle);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                release(handle);
            }
        });
    }

    /** Stops extending the message's visibility (its work failed: SQS redelivers it after the timeout). */
    public void release(Exchange exchange) {
        release(exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class));
    }

    public void release(String receiptHandle) {
        if (receiptHandle != null) held.remove(receiptHandle);
    }

    /** Messages whose visibility is being extended. */
    public int heldCount() {
        return held.size();
    }

    /** Extends every message held for a third of its queue's timeout or more back to the full timeout. */
    @AwsActions(value = "sqs:ChangeMessageVisibility", principal = AwsActions.Principal.HUB)
    void extendHeld() {
        long now = System.nanoTime();
        Map<String, List<String>> byUrl = new HashMap<>();
        // the longest held first: a long pass (thousands held, a slow SQS) reaches the most urgent in time
        held.entrySet().stream()
                .filter(e -> now - e.getValue().since()
                        >= visibility.get(e.getValue().url()) * 1_000_000_000L / 3)
                .sorted(Comparator.comparingLong(e -> e.getValue().since()))
                .forEach(e -> byUrl.computeIfAbsent(e.getValue().url(), u -> new ArrayList<>())
                        .add(e.getKey()));
        byUrl.forEach((url, handles) -> {
            int visibilitySeconds = visibility.get(url);
            for (int i = 0; i < handles.size(); i += BATCH) {
                List<String> chunk = handles.subList(i, Math.min(handles.size(), i + BATCH));
                try {
                    List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
                    for (int j = 0; j < chunk.size(); j++) {
                        entries.add(ChangeMessageVisibilityBatchRequestEntry.builder()
                                .id(Integer.toString(j))
                                .receiptHandle(chunk.get(j))
                                .visibilityTimeout(visibilitySeconds)
                                .build());
                    }
                    ChangeMessageVisibilityBatchResponse r = sqs.changeMessageVisibilityBatch(
                            b -> b.queueUrl(url).entries(entries));
                    for (var ok : r.successful())
                        held.computeIfPresent(chunk.get(Integer.parseInt(ok.id())), (k, h) -> new Held(h.url(), now));
                    // a handle SQS no longer accepts (the message was deleted or received again) is not ours to keep
                    for (var failed : r.failed()) held.remove(chunk.get(Integer.parseInt(failed.id())));
                } catch (RuntimeException e) {
                    LoggerFactory.getLogger(SqsAcknowledger.class)
                            .warn(
                                    "Extending the visibility of {} messages on {} failed: {}",
                                    chunk.size(),
                                    url,
                                    e.getMessage());
                }
            }
        });
    }

    private String url(Exchange exchange) {
        return queueUrl(
                ((Sqs2Endpoint) exchange.getFromEndpoint()).getConfiguration().getQueueName());
    }

    /** A queue's URL by name, looked up once (shared by the acknowledger, dead letters and backoff). */
    @AwsActions(value = "sqs:GetQueueUrl", principal = AwsActions.Principal.HUB)
    public String queueUrl(String queueName) {
        return queueUrls.computeIfAbsent(
                queueName, q -> sqs.getQueueUrl(r -> r.queueName(q)).queueUrl());
    }

    /** Whether the exchange's consumer leaves deletion to us. */
    public static boolean manual(Exchange exchange) {
        return exchange.getFromEndpoint() instanceof Sqs2Endpoint e
                && !e.getConfiguration().isDeleteAfterRead();
    }

    /** Deletes the exchange's message (soon, batched); completes when it is deleted. */
    public CompletableFuture<Void> ack(Exchange exchange) {
        String handle = exchange.getIn().getHeader(Sqs2Constants.RECEIPT_HANDLE, String.class);
        String url = url(exchange);
        return ack(url, handle);
    }

    /** Deletes the message (soon, batched); completes when it is deleted. */
    public CompletableFuture<Void> ack(String url, String handle) {
        release(handle);
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
        if (toSend != null) {
            List<Pending> batch = toSend;
            deleters.execute(() -> delete(url, batch));
        }
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
        for (int i = 0; i < toSend.size(); i += BATCH) {
            List<Pending> batch = toSend.subList(i, Math.min(toSend.size(), i + BATCH));
            deleters.execute(() -> delete(url, batch));
        }
    }

    @AwsActions(
            value = {"sqs:GetQueueUrl", "sqs:DeleteMessage"},
            principal = AwsActions.Principal.HUB)
    private void delete(String url, List<Pending> batch) {
        try {
            List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                entries.add(DeleteMessageBatchRequestEntry.builder()
                        .id(Integer.toString(i))
                        .receiptHandle(batch.get(i).receiptHandle())
                        .build());
            }
            DeleteMessageBatchResponse r =
                    sqs.deleteMessageBatch(b -> b.queueUrl(url).entries(entries));
            // a failed delete only means the message comes back and is found already done
            batch.forEach(p -> p.done().complete(null));
            if (!r.failed().isEmpty()) {
                LoggerFactory.getLogger(SqsAcknowledger.class)
                        .warn(
                                "{} of {} deletes failed on {}: {}",
                                r.failed().size(),
                                batch.size(),
                                url,
                                r.failed().get(0).message());
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done().complete(null));
            LoggerFactory.getLogger(SqsAcknowledger.class)
                    .warn("Deleting {} messages on {} failed: {}", batch.size(), url, e.getMessage());
        }
    }
}
