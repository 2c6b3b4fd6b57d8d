package io.patchpilot.tagging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Records each applied tag change in the ledger (partition {@code TAGS#<account>#<region>}) and
 * builds the {@code Patch Tags Applied} event for the batch (one event per account-region batch,
 * its {@code changes} listing each resource, old → new tags and cause).
 */
public final class TagAudit {
    public static final String DETAIL_TYPE = "Patch Tags Applied";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_CHANGES_PER_EVENT = 200;

    private final Ledger ledger;
    private final String eventBus;
    private final Clock clock;

    public TagAudit(Ledger ledger, String eventBus, Clock clock) {
        this.ledger = ledger;
        this.eventBus = eventBus;
        this.clock = clock;
    }

    public void record(AccountRegion target, List<TagOutcome> outcomes) {
        String now = clock.instant().toString();
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        for (TagOutcome o : outcomes) {
            if (o.result() != TagOutcome.Result.TAGGED) continue;
            Map<String, AttributeValue> item = Ledger.item("TAGS#" + target.account() + "#" + target.region(),
                    now + "#" + o.request().resourceId());
            item.put("resourceId", Ledger.s(o.request().resourceId()));
            item.put("resourceType", Ledger.s(o.request().kind().configType()));
            item.put("before", Ledger.s(json(o.before())));
            item.put("written", Ledger.s(json(o.written())));
            item.put("cause", Ledger.s(o.request().cause()));
            items.add(item);
        }
        ledger.putAll(items);
    }

    /** The Patch Tags Applied events for a batch (none when nothing changed). */
    public List<PutEventsRequest> events(AccountRegion target, List<TagOutcome> outcomes) {
        List<TagOutcome> changed = outcomes.stream().filter(o -> o.result() == TagOutcome.Result.TAGGED).toList();
        List<PutEventsRequest> requests = new ArrayList<>();
        List<PutEventsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < changed.size(); i += MAX_CHANGES_PER_EVENT) {
            ObjectNode detail = JSON.createObjectNode();
            detail.put("account", target.account());
            detail.put("region", target.region());
            ArrayNode changes = detail.putArray("changes");
            for (TagOutcome o : changed.subList(i, Math.min(changed.size(), i + MAX_CHANGES_PER_EVENT))) {
                ObjectNode c = changes.addObject();
                c.put("resourceId", o.request().resourceId());
                c.put("resourceType", o.request().kind().configType());
                c.set("before", JSON.valueToTree(o.before()));
                c.set("written", JSON.valueToTree(o.written()));
                c.put("cause", o.request().cause());
            }
            entries.add(PutEventsRequestEntry.builder().eventBusName(eventBus).source("patchpilot")
                    .detailType(DETAIL_TYPE).detail(detail.toString()).build());
            if (entries.size() == 10) {
                requests.add(PutEventsRequest.builder().entries(entries).build());
                entries = new ArrayList<>();
            }
        }
        if (!entries.isEmpty()) requests.add(PutEventsRequest.builder().entries(entries).build());
        return requests;
    }

    private static String json(Map<String, String> m) {
        return JSON.valueToTree(new java.util.TreeMap<>(m)).toString();
    }
}
