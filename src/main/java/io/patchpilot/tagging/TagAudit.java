package io.patchpilot.tagging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.service.DaemonThreads;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Records applied tag changes: per account-region batch, one ledger item (partition
 * {@code TAGS#<account>#<region>}) and one {@code Patch Tags Applied} event on the hub bus, each
 * listing the batch's changes (resource, old → written tags, cause). Batches of different
 * account-regions that finish close together share the writes: up to 25 items per
 * BatchWriteItem and 10 events per PutEvents.
 */
public final class TagAudit {
    public static final String DETAIL_TYPE = "Patch Tags Applied";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_CHANGES_PER_EVENT = 200;
    private static final int LEDGER_BATCH = 25;
    private static final int EVENTS_BATCH = 10;

    private final Ledger ledger;
    private final String eventBus;
    private final Clock clock;
    private final long lingerMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("tag-audit"));
    private final List<Pending> pending = new ArrayList<>();
    private int pendingItems;
    private int pendingEvents;

    private record Pending(List<Map<String, AttributeValue>> items, List<PutEventsRequestEntry> events,
                           Consumer<PutEventsRequest> publisher, CompletableFuture<Void> done) {}

    public TagAudit(Ledger ledger, String eventBus, Clock clock, long lingerMillis) {
        this.ledger = ledger;
        this.eventBus = eventBus;
        this.clock = clock;
        this.lingerMillis = lingerMillis;
    }

    /** Records a batch now (the reconcile sweep, one account-region per step). */
    public void record(AccountRegion target, List<TagOutcome> outcomes) {
        ledger.putAll(items(target, outcomes));
    }

    /**
     * Queues a batch's ledger item and events, written together with other batches' within
     * {@code lingerMillis}; completes when both are written.
     */
    public CompletableFuture<Void> submit(AccountRegion target, List<TagOutcome> outcomes, Consumer<PutEventsRequest> publisher) {
        List<Map<String, AttributeValue>> items = items(target, outcomes);
        List<PutEventsRequestEntry> events = entries(target, outcomes);
        if (items.isEmpty() && events.isEmpty()) return CompletableFuture.completedFuture(null);
        Pending p = new Pending(items, events, publisher, new CompletableFuture<>());
        boolean full;
        synchronized (pending) {
            pending.add(p);
            pendingItems += items.size();
            pendingEvents += events.size();
            full = pendingItems >= LEDGER_BATCH || pendingEvents >= EVENTS_BATCH;
            if (!full && pending.size() == 1) timer.schedule(this::flush, lingerMillis, TimeUnit.MILLISECONDS);
        }
        if (full) flush();
        return p.done();
    }

    private void flush() {
        List<Pending> batch;
        synchronized (pending) {
            if (pending.isEmpty()) return;
            batch = new ArrayList<>(pending);
            pending.clear();
            pendingItems = 0;
            pendingEvents = 0;
        }
        try {
            List<Map<String, AttributeValue>> items = new ArrayList<>();
            List<PutEventsRequestEntry> entries = new ArrayList<>();
            batch.forEach(p -> {
                items.addAll(p.items());
                entries.addAll(p.events());
            });
            ledger.putAll(items);
            for (PutEventsRequest request : requests(entries)) batch.get(0).publisher().accept(request);
            batch.forEach(p -> p.done().complete(null));
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done().completeExceptionally(e));
        }
    }

    private List<Map<String, AttributeValue>> items(AccountRegion target, List<TagOutcome> outcomes) {
        List<TagOutcome> changed = changed(outcomes);
        if (changed.isEmpty()) return List.of();
        ArrayNode changes = JSON.createArrayNode();
        for (TagOutcome o : changed) change(changes.addObject(), o);
        Map<String, AttributeValue> item = Ledger.item("TAGS#" + target.account() + "#" + target.region(),
                clock.instant() + "#" + UUID.randomUUID());
        item.put("count", AttributeValue.fromN(Integer.toString(changed.size())));
        item.put("changes", Ledger.s(changes.toString()));
        return List.of(item);
    }

    /** The Patch Tags Applied events for a batch (none when nothing changed). */
    public List<PutEventsRequest> events(AccountRegion target, List<TagOutcome> outcomes) {
        return requests(entries(target, outcomes));
    }

    private List<PutEventsRequestEntry> entries(AccountRegion target, List<TagOutcome> outcomes) {
        List<TagOutcome> changed = changed(outcomes);
        List<PutEventsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < changed.size(); i += MAX_CHANGES_PER_EVENT) {
            ObjectNode detail = JSON.createObjectNode();
            detail.put("account", target.account());
            detail.put("region", target.region());
            ArrayNode changes = detail.putArray("changes");
            for (TagOutcome o : changed.subList(i, Math.min(changed.size(), i + MAX_CHANGES_PER_EVENT))) change(changes.addObject(), o);
            entries.add(PutEventsRequestEntry.builder().eventBusName(eventBus).source("patchpilot")
                    .detailType(DETAIL_TYPE).detail(detail.toString()).build());
        }
        return entries;
    }

    private static List<PutEventsRequest> requests(List<PutEventsRequestEntry> entries) {
        List<PutEventsRequest> requests = new ArrayList<>();
        for (int i = 0; i < entries.size(); i += EVENTS_BATCH) {
            requests.add(PutEventsRequest.builder().entries(entries.subList(i, Math.min(entries.size(), i + EVENTS_BATCH))).build());
        }
        return requests;
    }

    private static List<TagOutcome> changed(List<TagOutcome> outcomes) {
        return outcomes.stream().filter(o -> o.result() == TagOutcome.Result.TAGGED).toList();
    }

    private static void change(ObjectNode c, TagOutcome o) {
        c.put("resourceId", o.request().resourceId());
        c.put("resourceType", o.request().kind().configType());
        c.set("before", JSON.valueToTree(new TreeMap<>(o.before())));
        c.set("written", JSON.valueToTree(new TreeMap<>(o.written())));
        c.put("cause", o.request().cause());
    }
}
