package io.patchpilot.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ami.AmiProgress;
import io.patchpilot.ami.AmiSteps;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.patching.RunFigures;
import io.patchpilot.windows.WindowNames;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/** Runs from the ledger, read-only: the RUNS index newest first, one page at a time, and one run in full. */
public final class RunsView {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> RUN_FIELDS = Set.of(
            "runId",
            "status",
            "occurrence",
            "createdAt",
            "finishedAt",
            "lastStart",
            "reason",
            "requester",
            "approver",
            "note");

    private static final int PROBLEMS_SHOWN = 100;
    /** Instances of a page whose output files are listed and linked (one ListObjectsV2 each). */
    static final int LINKED_PER_PAGE = 50;

    private static final List<String> INSTANCE_DETAILS = List.of(
            "commandId",
            "document",
            "startedAt",
            "endedAt",
            "statusDetails",
            "responseCode",
            "outputTail",
            "outputLocation",
            "outputUnavailable",
            "patchState",
            "patchStateReason",
            "patches");

    private final AwsClients aws;
    private final Ledger ledger;
    private final String table;
    private final OutputLinks outputLinks;

    public RunsView(AwsClients aws, Ledger ledger, String table, OutputLinks outputLinks) {
        this.aws = aws;
        this.ledger = ledger;
        this.table = table;
        this.outputLinks = outputLinks;
    }

    /** {@code {"items":[run…],"nextCursor":…}}; a run's counts are its final counts (or empty while running). */
    @AwsActions(
            value = {"dynamodb:Query", "dynamodb:GetItem"},
            principal = AwsActions.Principal.HUB)
    public ObjectNode list(int limit, Optional<String> after) {
        QueryResponse page = aws.hub(DynamoDbClient.class).query(q -> {
            q.tableName(table)
                    .keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", Ledger.s(RunKeys.INDEX)))
                    .scanIndexForward(false)
                    .limit(limit);
            after.ifPresent(sk -> q.exclusiveStartKey(Ledger.item(RunKeys.INDEX, sk)));
        });
        ObjectNode out = JSON.createObjectNode();
        ArrayNode items = out.putArray("items");
        for (Map<String, AttributeValue> entry : page.items()) {
            ledger.get(RunKeys.pk(entry.get("runId").s()), RunKeys.RUN).ifPresent(run -> items.add(summary(run)));
        }
        boolean more =
                page.lastEvaluatedKey() != null && !page.lastEvaluatedKey().isEmpty();
        out.put(
                "nextCursor",
                more ? Paging.cursor(page.lastEvaluatedKey().get("sk").s()) : null);
        return out;
    }

    /** The run, its account-regions (with instances) one page at a time, and its AutoScaling groups with their AMI pipeline steps. */
    @AwsActions(
            value = {"dynamodb:Query", "dynamodb:GetItem"},
            principal = AwsActions.Principal.HUB)
    public Optional<ObjectNode> run(String runId, int limit, String cursor) {
        Optional<Map<String, AttributeValue>> run = ledger.get(RunKeys.pk(runId), RunKeys.RUN);
        if (run.isEmpty()) return Optional.empty();
        ObjectNode out = summary(run.get());
        List<Map<String, AttributeValue>> items = ledger.partition(RunKeys.pk(runId));
        out.set("figures", JSON.valueToTree(RunFigures.of(run.get(), items, PROBLEMS_SHOWN)));
        List<Map<String, AttributeValue>> targets = items.stream()
                .filter(i -> i.get("sk").s().startsWith("TARGET#"))
                .toList();
        Paging.Slice slice = Paging.slice(targets.size(), cursor, limit);
        ArrayNode ts = out.putArray("targets");
        int[] linked = {0};
        for (Map<String, AttributeValue> t : targets.subList(slice.from(), slice.to())) {
            ObjectNode o = ts.addObject()
                    .put("account", Ledger.text(t, "account"))
                    .put("region", Ledger.text(t, "region"))
                    .put("state", Ledger.text(t, "state"))
                    .put("reason", Ledger.text(t, "reason"));
            ArrayNode instances = o.putArray("instances");
            if (t.containsKey("instances")) {
                read(t.get("instances").s()).properties().forEach(e -> {
                    ObjectNode i = instances
                            .addObject()
                            .put("instanceId", e.getKey())
                            .put("status", e.getValue().path("status").asText())
                            .put("reason", e.getValue().path("reason").asText(""));
                    // the command and, for what did not succeed, its why (PatchTargetStep.poll)
                    for (String k : INSTANCE_DETAILS)
                        if (e.getValue().has(k)) i.set(k, e.getValue().get(k));
                    // links to the full output of what did not succeed (hub's logs bucket, this run only)
                    if (e.getValue().has("outputLocation") && linked[0]++ < LINKED_PER_PAGE)
                        i.set(
                                "outputLinks",
                                JSON.valueToTree(outputLinks.links(
                                        e.getValue().path("outputLocation").asText(), runId)));
                });
            }
        }
        out.put("nextCursor", slice.next());
        // each AutoScaling group with its AMI pipeline as steps (one model: AmiSteps); the build's
        // internal bookkeeping (lease token, profile, security groups …) only under "debug"
        ArrayNode groups = out.putArray("groups");
        for (Map<String, AttributeValue> i : items) {
            if (!AmiProgress.isGroup(i)) continue;
            ObjectNode g = JSON.valueToTree(AmiSteps.group(i));
            ObjectNode debug = g.putObject("debug");
            i.forEach((k, v) -> {
                if (k.equals("pk") || k.equals("sk") || k.equals("history")) return;
                if (v.s() != null) debug.put(k, v.s());
                else if (v.n() != null) debug.put(k, v.n());
            });
            groups.add(g);
        }
        return Optional.of(out);
    }

    static ObjectNode summary(Map<String, AttributeValue> run) {
        ObjectNode o = JSON.createObjectNode();
        String window = run.containsKey("window") ? run.get("window").s() : "";
        o.put("window", WindowNames.display(window))
                .put("windowName", WindowNames.name(window))
                .put("windowScope", WindowNames.scope(window));
        for (String f : RUN_FIELDS) {
            if (run.containsKey(f) && run.get(f).s() != null)
                o.put(f, run.get(f).s());
        }
        o.put(
                "targetsTotal",
                run.containsKey("targetsTotal")
                        ? Long.parseLong(run.get("targetsTotal").n())
                        : 0);
        o.put(
                "targetsDone",
                run.containsKey("targetsDone")
                        ? Long.parseLong(run.get("targetsDone").n())
                        : 0);
        o.set("counts", run.containsKey("counts") ? read(run.get("counts").s()) : JSON.createObjectNode());
        // an ended run keeps its figures; a running one has none yet (the run page reads them live)
        if (run.containsKey("figures")) o.set("figures", read(run.get("figures").s()));
        return o;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("ledger item is not JSON: " + e.getOriginalMessage());
        }
    }
}
