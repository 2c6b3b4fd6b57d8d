package io.patchpilot.tagging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.DaemonThreads;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *
 * <p>A batch's changes are recorded ahead of their write ({@link #intend}: sort key
 * {@code PENDING#<id>}) and the audit item ({@code <id>}) replaces that record once the tags are
 * written. A record left behind by a process that died in between is settled by the reconcile
 * sweep ({@link #settleAbandoned}): the changes that landed get their audit item then.
 */
public final class TagAudit {
    public static final String DETAIL_TYPE = "Patch Tags Applied";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_CHANGES_PER_EVENT = 200;
    private static final int LEDGER_BATCH = 25;
    private static final int EVENTS_BATCH = 10;
    private static final String PENDING = "PENDING#";
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

    private final Ledger ledger;
    private final String eventBus;
    private final Clock clock;
    private final long lingerMillis;
    private final Duration abandonedAfter;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("tag-audit"));
    private final List<Pending> pending = new ArrayList<>();
    private int pendingItems;
    private int pendingEvents;

    private record Pending(
            List<Map<String, AttributeValue>> items,
            List<Map<String, AttributeValue>> deletes,
            List<PutEventsRequestEntry> events,
            Consumer<PutEventsRequest> publisher,
            CompletableFuture<Void> done) {}

    /**
     * @param abandonedAfter how old a write-ahead record must be before the sweep settles it: longer
     *                       than any live batch takes from its plan to its audit
     */
    public TagAudit(Ledger ledger, String eventBus, Clock clock, long lingerMillis, Duration abandonedAfter) {
        this.ledger = ledger;
        this.eventBus = eventBus;
        this.clock = clock;
        this.lingerMillis = lingerMillis;
        this.abandonedAfter = abandonedAfter;
    }

    /**
     * Records a batch's changes before they are written; returns the id its audit item will have
     * (null when nothing is to change).
     */
    public String intend(AccountRegion target, List<TagOutcome> outcomes) {
        List<TagOutcome> changed = changed(outcomes);
        if (changed.isEmpty()) return null;
        String id = clock.instant() + "#" + UUID.randomUUID();
        Map<String, AttributeValue> item = Ledger.item(partition(target), PENDING + id);
        item.put("count", AttributeValue.fromN(Integer.toString(changed.size())));
        item.put("planned", Ledger.s(changesJson(changed)));
        ledger.put(item);
        return id;
    }

    /** Records a batch now (the reconcile sweep, one account-region per step); {@code id} is {@link #intend}'s. */
    public void record(AccountRegion target, String id, List<TagOutcome> outcomes) {
        ledger.writeAll(items(target, id, outcomes), deletes(target, id));
    }

    /**
     * Queues a batch's ledger item and events, written together with other batches' within
     * {@code lingerMillis}; completes when both are written. {@code id} is {@link #intend}'s.
     */
    public CompletableFuture<Void> submit(
            AccountRegion target, String id, List<TagOutcome> outcomes, Consumer<PutEventsRequest> publisher) {
        List<Map<String, AttributeValue>> items = items(target, id, outcomes);
        List<PutEventsRequestEntry> events = entries(target, outcomes);
        if (items.isEmpty() && events.isEmpty()) return CompletableFuture.completedFuture(null);
        Pending p = new Pending(items, deletes(target, id), events, publisher, new CompletableFuture<>());
        boolean full;
        synchronized (pending) {
            pending.add(p);
            pendingItems += items.size() + p.deletes().size();
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
            List<Map<String, AttributeValue>> deletes = new ArrayList<>();
            List<PutEventsRequestEntry> entries = new ArrayList<>();
            batch.forEach(p -> {
                items.addAll(p.items());
                deletes.addAll(p.deletes());
                entries.addAll(p.events());
            });
            ledger.writeAll(items, deletes);
            for (PutEventsRequest request : requests(entries))
                batch.get(0).publisher().accept(request);
            batch.forEach(p -> p.done().complete(null));
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done().completeExceptionally(e));
        }
    }

    /**
     * Settles the write-ahead records of one account-region that are older than
     * {@code abandonedAfter}: the changes that landed (as {@code planSweep}, made before this
     * sweep writes anything, shows the tags) get their audit item; the record goes. Returns those
     * changes, for their events.
     */
    public List<TagOutcome> settleAbandoned(AccountRegion target, List<TagOutcome> sweepPlan) {
        String pk = partition(target);
        List<Map<String, AttributeValue>> records = ledger.between(pk, PENDING, PENDING + "~");
        if (records.isEmpty()) return List.of();
        Map<String, Map<String, String>> current = new HashMap<>();
        for (TagOutcome o : sweepPlan) {
            if (o.result() != TagOutcome.Result.GONE)
                current.put(
                        UnconfirmedTagChanges.key(
                                o.request().kind(), o.request().resourceId()),
                        o.before());
        }
        Instant now = clock.instant();
        List<TagOutcome> settled = new ArrayList<>();
        for (Map<String, AttributeValue> record : records) {
            String id = record.get("sk").s().substring(PENDING.length());
            Instant plannedAt = Instant.parse(id.substring(0, id.indexOf('#')));
            if (!UnconfirmedTagChanges.abandoned(plannedAt, now, abandonedAfter)) continue;
            // audit records since the plan (from a second earlier: instants of one second do not sort by their
            // fraction)
            Set<String> auditedSince = new HashSet<>();
            for (Map<String, AttributeValue> audit : ledger.between(
                    pk,
                    plannedAt.truncatedTo(ChronoUnit.SECONDS).minusSeconds(1).toString(),
                    "A")) {
                if (audit.containsKey("changes"))
                    parse(target, audit.get("changes").s())
                            .forEach(c -> auditedSince.add(UnconfirmedTagChanges.key(
                                    c.request().kind(), c.request().resourceId())));
            }
            List<TagOutcome> landed = UnconfirmedTagChanges.landed(
                    parse(target, record.get("planned").s()), current, auditedSince);
            // the owner, if it was only slow, writes the same audit item: whichever comes first stands
            if (!landed.isEmpty() && ledger.putIfAbsent(auditItem(target, id, landed))) settled.addAll(landed);
            ledger.delete(pk, PENDING + id);
        }
        return settled;
    }

    private List<Map<String, AttributeValue>> items(AccountRegion target, String id, List<TagOutcome> outcomes) {
        List<TagOutcome> changed = changed(outcomes);
        if (changed.isEmpty()) return List.of();
        return List.of(auditItem(target, id, changed)); // id is intend's: there are changes
    }

    private static Map<String, AttributeValue> auditItem(AccountRegion target, String id, List<TagOutcome> changed) {
        Map<String, AttributeValue> item = Ledger.item(partition(target), id);
        item.put("count", AttributeValue.fromN(Integer.toString(changed.size())));
        item.put("changes", Ledger.s(changesJson(changed)));
        return item;
    }

    private static List<Map<String, AttributeValue>> deletes(AccountRegion target, String id) {
        return id == null ? List.of() : List.of(Ledger.item(partition(target), PENDING + id));
    }

    private static String partition(AccountRegion target) {
        return "TAGS#" + target.account() + "#" + target.region();
    }

    private static String changesJson(List<TagOutcome> changed) {
        ArrayNode changes = JSON.createArrayNode();
        for (TagOutcome o : changed) change(changes.addObject(), o);
        return changes.toString();
    }

    /** The changes of a ledger item, back as outcomes. */
    static List<TagOutcome> parse(AccountRegion target, String changesJson) {
        List<TagOutcome> out = new ArrayList<>();
        try {
            for (JsonNode c : JSON.readTree(changesJson)) {
                ResourceKind kind =
                        ResourceKind.fromConfigType(c.path("resourceType").asText());
                if (kind == null) continue;
                out.add(new TagOutcome(
                        new TagRequest(
                                target,
                                kind,
                                c.path("resourceId").asText(),
                                c.path("cause").asText()),
                        TagOutcome.Result.TAGGED,
                        "",
                        JSON.convertValue(c.path("before"), STRING_MAP),
                        JSON.convertValue(c.path("written"), STRING_MAP)));
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("ledger item with unreadable changes: " + e.getOriginalMessage(), e);
        }
        return out;
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
            for (TagOutcome o : changed.subList(i, Math.min(changed.size(), i + MAX_CHANGES_PER_EVENT)))
                change(changes.addObject(), o);
            entries.add(PutEventsRequestEntry.builder()
                    .eventBusName(eventBus)
                    .source("patchpilot")
                    .detailType(DETAIL_TYPE)
                    .detail(detail.toString())
                    .build());
        }
        return entries;
    }

    private static List<PutEventsRequest> requests(List<PutEventsRequestEntry> entries) {
        List<PutEventsRequest> requests = new ArrayList<>();
        for (int i = 0; i < entries.size(); i += EVENTS_BATCH) {
            requests.add(PutEventsRequest.builder()
                    .entries(entries.subList(i, Math.min(entries.size(), i + EVENTS_BATCH)))
                    .build());
        }
        return requests;
    }

    private static List<TagOutcome> changed(List<TagOutcome> outcomes) {
        return outcomes.stream()
                .filter(o -> o.result() == TagOutcome.Result.TAGGED)
                .toList();
    }

    private static void change(ObjectNode c, TagOutcome o) {
        c.put("resourceId", o.request().resourceId());
        c.put("resourceType", o.request().kind().configType());
        c.set("before", JSON.valueToTree(new TreeMap<>(o.before())));
        c.set("written", JSON.valueToTree(new TreeMap<>(o.written())));
        c.put("cause", o.request().cause());
    }
}
