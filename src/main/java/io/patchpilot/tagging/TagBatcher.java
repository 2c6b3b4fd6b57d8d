package io.patchpilot.tagging;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.DaemonThreads;
import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.SqsAcknowledger;
import io.patchpilot.metrics.Metrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.DefaultPollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets tag requests for the same account and region that arrive close together share AWS calls.
 * Each exchange (one SQS message) waits asynchronously, so the consumer keeps receiving; a batch
 * flushes when it is full or after a short linger, one batch at a time per account-region. An
 * exchange completes only after its resource's tags are written and audited, so its message is
 * deleted only then: a crash loses nothing, and a redelivery finds the tags right and writes nothing.
 */
public final class TagBatcher extends AsyncProcessorSupport {
    private static final Logger LOG = LoggerFactory.getLogger(TagBatcher.class);

    private final TagWriter writer;
    private final TagAudit audit;
    private final SqsAcknowledger acks;
    private volatile ProducerTemplate producer;
    private final String auditEndpoint;
    private final int maxBatch;
    private final long lingerMillis;
    /** Messages held unacknowledged; the consumer stops receiving at maxInFlight (see {@link #backpressure}). */
    private final AtomicInteger inFlight = new AtomicInteger();

    private final int maxInFlight;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("tag-batch-timer"));
    private final Map<AccountRegion, Slot> slots = new ConcurrentHashMap<>();
    private final AtomicLong tagged = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    /** Time spent per phase of a flush (nanoseconds, all workers together): where a batch's time goes. */
    private final Map<String, AtomicLong> phaseNanos = new ConcurrentHashMap<>();

    public TagBatcher(
            TagWriter writer,
            TagAudit audit,
            SqsAcknowledger acks,
            String auditEndpoint,
            int maxBatch,
            long lingerMillis,
            int maxInFlight,
            int workerThreads) {
        this.writer = writer;
        this.audit = audit;
        this.acks = acks;
        this.auditEndpoint = auditEndpoint;
        this.maxBatch = maxBatch;
        this.lingerMillis = lingerMillis;
        this.maxInFlight = maxInFlight;
        this.workers = Executors.newFixedThreadPool(workerThreads, DaemonThreads.named("tag-batch-worker"));
    }

    private record Pending(TagRequest request, Exchange exchange, AsyncCallback callback) {}

    /** The pending requests of one account-region; at most one flush of it runs at a time. */
    private final class Slot {
        final AccountRegion target;
        final List<Pending> pending = new ArrayList<>();
        boolean flushing;
        boolean scheduled;

        Slot(AccountRegion target) {
            this.target = target;
        }
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        TagRequest request = exchange.getMessage().getBody(TagRequest.class);
        if (request == null) {
            // an event that asks for no tagging: acknowledge it and move on
            if (SqsAcknowledger.manual(exchange)) acks.ack(exchange);
            callback.done(true);
            return true;
        }
        if (producer == null) producer = exchange.getContext().createProducerTemplate();
        // its batch may take longer than the visibility timeout to reach it: keep it from other consumers
        // meanwhile. Never block here: the other messages of the same poll would wait unheld (and come
        // back to another consumer while this one still has them); the consumer stops polling instead.
        if (SqsAcknowledger.manual(exchange)) acks.hold(exchange);
        inFlight.incrementAndGet();
        Slot slot = slots.computeIfAbsent(request.target(), Slot::new);
        synchronized (slot) {
            slot.pending.add(new Pending(request, exchange, callback));
            if (!slot.flushing) {
                if (slot.pending.size() >= maxBatch) {
                    startFlush(slot);
                } else if (!slot.scheduled) {
                    slot.scheduled = true;
                    timer.schedule(
                            () -> {
                                synchronized (slot) {
                                    slot.scheduled = false;
                                    if (!slot.flushing && !slot.pending.isEmpty()) startFlush(slot);
                                }
                            },
                            lingerMillis,
                            TimeUnit.MILLISECONDS);
                }
            }
        }
        return false;
    }

    /** Called holding the slot's lock. */
    private void startFlush(Slot slot) {
        slot.flushing = true;
        List<Pending> batch = new ArrayList<>(slot.pending.subList(0, Math.min(maxBatch, slot.pending.size())));
        slot.pending.subList(0, batch.size()).clear();
        workers.execute(() -> {
            try {
                flush(slot.target, batch);
            } finally {
                synchronized (slot) {
                    slot.flushing = false;
                    if (!slot.pending.isEmpty()) startFlush(slot);
                }
            }
        });
    }

    /**
     * Tags one batch, then hands its audit to {@link TagAudit} (shared with other batches) and
     * acknowledges each message once its audit is written. The slot is free for its next batch
     * as soon as the tags are written.
     */
    @AwsActions(value = "events:PutEvents", principal = AwsActions.Principal.HUB)
    private void flush(AccountRegion target, List<Pending> batch) {
        // the same resource may be asked for several times in one batch (duplicated events)
        Map<String, List<Pending>> byResource = new LinkedHashMap<>();
        for (Pending p : batch)
            byResource.computeIfAbsent(key(p.request()), k -> new ArrayList<>()).add(p);
        List<TagRequest> requests =
                byResource.values().stream().map(l -> l.get(0).request()).toList();
        batches.incrementAndGet();
        List<TagOutcome> outcomes;
        String auditId;
        long t0 = System.nanoTime();
        try {
            TagWriter.Plan plan = writer.plan(target, requests);
            auditId = audit.intend(target, plan.changes());
            writer.write(target, plan);
            outcomes = plan.outcomes();
        } catch (RuntimeException e) {
            fail(batch, AwsErrors.classify(e, "account " + target.account() + " region " + target.region()), target);
            return;
        } finally {
            phase("tag", System.nanoTime() - t0);
        }
        long t1 = System.nanoTime();
        audit.submit(target, auditId, outcomes, events -> producer.sendBody(auditEndpoint, events))
                .whenComplete((ok, error) -> {
                    phase("audit", System.nanoTime() - t1);
                    if (error != null) {
                        fail(
                                batch,
                                AwsErrors.classify(
                                        error instanceof CompletionException c && c.getCause() != null
                                                ? c.getCause()
                                                : error,
                                        "audit of account " + target.account() + " region " + target.region()),
                                target);
                        return;
                    }
                    Map<String, TagOutcome> byKey = new HashMap<>();
                    for (TagOutcome o : outcomes) byKey.put(key(o.request()), o);
                    byResource.forEach((key, waiting) -> {
                        TagOutcome outcome = byKey.get(key);
                        if (outcome != null && outcome.result() == TagOutcome.Result.TAGGED) tagged.incrementAndGet();
                        // repeats of a resource in this batch, and events whose tags an earlier one already wrote
                        Metrics.duplicateSuppressed(
                                "config-event",
                                waiting.size()
                                        - 1
                                        + (outcome != null && outcome.result() == TagOutcome.Result.ALREADY_RIGHT
                                                ? 1
                                                : 0));
                        for (int i = 0; i < waiting.size(); i++) {
                            Pending p = waiting.get(i);
                            // a second message for the same resource in one batch shares the first one's write
                            Metrics.tagOutcome(
                                    outcome == null
                                            ? "NONE"
                                            : i == 0 ? outcome.result().name() : "SAME_BATCH");
                            p.exchange().getMessage().setBody(outcome);
                            if (SqsAcknowledger.manual(p.exchange()))
                                acks.ack(p.exchange()).whenComplete((v, t) -> complete(p));
                            else complete(p);
                        }
                    });
                });
    }

    private void fail(List<Pending> batch, RuntimeException failure, AccountRegion target) {
        LOG.warn("Tagging batch of {} in {} failed: {}", batch.size(), target, failure.getMessage());
        for (Pending p : batch) {
            p.exchange().setException(failure);
            complete(p);
        }
    }

    private void complete(Pending p) {
        if (SqsAcknowledger.manual(p.exchange())) acks.release(p.exchange());
        inFlight.decrementAndGet();
        p.callback().done(false);
    }

    private void phase(String name, long nanos) {
        phaseNanos.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(nanos);
    }

    /** Batches flushed, and milliseconds spent per phase over all of them. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new TreeMap<>();
        m.put("batches", batches.get());
        phaseNanos.forEach((k, v) -> m.put(k + "Ms", v.get() / 1_000_000));
        return m;
    }

    private static String key(TagRequest r) {
        return r.kind() + "/" + r.resourceId();
    }

    /** Whether the batcher takes more messages (fewer than max-in-flight held). */
    public boolean hasRoom() {
        return inFlight.get() < maxInFlight;
    }

    /**
     * The config-events consumer's poll strategy: no poll while the batcher holds max-in-flight
     * messages (it may go over by one poll per consumer). Failed polls are handled as Camel's default.
     */
    public PollingConsumerPollStrategy backpressure() {
        return new DefaultPollingConsumerPollStrategy() {
            @Override
            public boolean begin(Consumer consumer, Endpoint endpoint) {
                return hasRoom();
            }
        };
    }

    public long taggedCount() {
        return tagged.get();
    }

    @Override
    protected void doStop() {
        timer.shutdown();
        workers.shutdown();
        try {
            workers.awaitTermination(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
