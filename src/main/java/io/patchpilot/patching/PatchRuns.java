package io.patchpilot.patching;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ami.AmiBuild;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.service.QueueSender;
import io.patchpilot.web.Metrics;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowNames;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Window fire → patch run. One occurrence of a window gives one run (its id is the window and
 * the occurrence), however often the fire message arrives; the run fans out one work item per
 * account × region in scope, and ends when the last of them is done.
 */
public final class PatchRuns {
    private static final Logger LOG = LoggerFactory.getLogger(PatchRuns.class);
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String RUN = "RUN";
    public static final String INDEX = "RUNS";

    private final Ledger ledger;
    private final WindowStore windows;
    private final Organization organization;
    private final QueueSender work;
    private final List<String> regions;
    private final String eventBus;
    private final Clock clock;

    public PatchRuns(
            Ledger ledger,
            WindowStore windows,
            Organization organization,
            QueueSender work,
            List<String> regions,
            String eventBus,
            Clock clock) {
        this.ledger = ledger;
        this.windows = windows;
        this.organization = organization;
        this.work = work;
        this.regions = List.copyOf(regions);
        this.eventBus = eventBus;
        this.clock = clock;
    }

    public static String pk(String runId) {
        return "RUN#" + runId;
    }

    /** {@code {"type":"window-fire","window":"Dev_maintenance_window","account":"…","time":"…"}} */
    public List<PutEventsRequest> fire(String body) {
        JsonNode m = JsonBodies.object(body);
        String name = m.path("window").asText("");
        if (!name.endsWith("_maintenance_window"))
            throw new PermanentFailure("window: '" + name + "' is not a window name such as Dev_maintenance_window");
        String account = m.hasNonNull("account") ? m.get("account").asText() : null;
        if (account != null && !account.matches("\\d{12}"))
            throw new PermanentFailure("account: '" + account + "' is not a 12-digit account id");
        Instant time;
        try {
            time = m.hasNonNull("time") ? Instant.parse(m.get("time").asText()) : clock.instant();
        } catch (DateTimeParseException e) {
            throw new PermanentFailure("time: '" + m.get("time").asText() + "' is not an ISO-8601 instant");
        }
        String key = (account == null ? WindowDirectory.ORGANIZATION_WIDE : account) + "#" + name;
        MaintenanceWindow w =
                windows.get(key).orElseThrow(() -> new PermanentFailure("window: " + key + " does not exist"));
        Optional<Instant> occurrence = WindowSchedule.occurrenceAt(w, time);
        if (occurrence.isEmpty()) {
            LOG.debug("{} fired at {}: not an occurrence of its schedule", key, time);
            return List.of();
        }
        String runId = runId(w, occurrence.get());
        Map<String, AttributeValue> run = ledger.get(pk(runId), RUN).orElse(null);
        if (run == null) {
            if (w.account() != null && !organization.isActiveMember(w.account())) {
                throw new PermanentFailure("account: " + w.account() + " owns " + name
                        + " but is not an active account of the organization");
            }
            Optional<String> blocked = RolloutGate.blockReason(w, occurrence.get(), latestRun(w.predecessorKey()));
            if (blocked.isPresent()) return block(runId, w, occurrence.get(), blocked.get());
            List<AccountRegion> scope = new ArrayList<>();
            for (String a : w.organizationWide() ? organization.activeAccounts() : List.of(w.account())) {
                for (String r : regions) scope.add(new AccountRegion(a, r));
            }
            if (!ledger.putIfAbsent(runItem(runId, w, occurrence.get(), scope))) return List.of();
            ledger.put(indexItem(runId, w));
            run = ledger.get(pk(runId), RUN).orElseThrow();
        }
        if (!"Dispatching".equals(run.get("status").s())) {
            LOG.info(
                    "Run {} exists ({}): fire message for {} acknowledged",
                    runId,
                    run.get("status").s(),
                    occurrence.get());
            Metrics.duplicateSuppressed("window-fire", 1);
            return List.of();
        }
        dispatch(runId, run);
        return List.of();
    }

    /**
     * One {@code patch-target} work item per account × region of a Dispatching run, then Running.
     * Sending again after a crash is harmless: each target step starts once.
     */
    public void dispatch(String runId, Map<String, AttributeValue> run) {
        List<String> items = new ArrayList<>();
        for (JsonNode t : read(run.get("scope").s())) {
            // the run's facts travel with each step, so no step has to read the run item first
            ObjectNode item = JSON.createObjectNode()
                    .put("type", "patch-target")
                    .put("runId", runId)
                    .put("account", t.path("account").asText())
                    .put("region", t.path("region").asText())
                    .put("windowJson", run.get("windowJson").s())
                    .put("lastStart", run.get("lastStart").s())
                    .put("createdAt", run.get("createdAt").s());
            if (run.containsKey("selectBy"))
                item.put("selectBy", run.get("selectBy").s());
            if (run.containsKey("overrideList"))
                item.put("overrideList", run.get("overrideList").s());
            items.add(item.toString());
        }
        work.send(items);
        ledger.setIf(
                pk(runId),
                RUN,
                Map.of("status", Ledger.s("Running")),
                "#st = :dispatching",
                Map.of("#st", "status"),
                Map.of(":dispatching", Ledger.s("Dispatching")));
        LOG.info("Run {}: {} account-regions dispatched", runId, items.size());
    }

    /**
     * A run outside any window (an emergency): its own parameters, scope and selection, and a
     * deadline instead of a window end. Created once per id; false when it already exists.
     */
    public boolean createUnscheduled(
            String runId,
            String label,
            MaintenanceWindow parameters,
            List<AccountRegion> scope,
            Instant deadline,
            Map<String, AttributeValue> extra) {
        Instant now = clock.instant();
        Map<String, AttributeValue> item = runItem(runId, parameters, now, scope);
        item.put("window", Ledger.s(label));
        item.put("lastStart", Ledger.s(deadline.toString()));
        item.putAll(extra);
        if (!ledger.putIfAbsent(item)) return false;
        Map<String, AttributeValue> index = Ledger.item(INDEX, now + "#" + runId);
        index.put("runId", Ledger.s(runId));
        index.put("window", Ledger.s(label));
        ledger.put(index);
        return true;
    }

    /** The occurrence holds: recorded as a Blocked run with the reason, announced, nothing patched. */
    private List<PutEventsRequest> block(String runId, MaintenanceWindow w, Instant occurrence, String reason) {
        Map<String, AttributeValue> item = runItem(runId, w, occurrence, List.of());
        item.put("status", Ledger.s("Blocked"));
        item.put("reason", Ledger.s(reason));
        if (!ledger.putIfAbsent(item)) return List.of();
        ledger.put(indexItem(runId, w));
        LOG.warn("Run {} blocked: {}", runId, reason);
        ObjectNode detail = windowFields(JSON.createObjectNode().put("runId", runId), w.key())
                .put("status", "Blocked")
                .put("reason", reason)
                .put("occurrence", occurrence.toString());
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(eventBus)
                        .source("patchpilot")
                        .detailType("Patch Run Blocked")
                        .detail(detail.toString())
                        .build())
                .build());
    }

    /** The latest run of a window (by start), for the rollout gate. */
    private Optional<RolloutGate.PredecessorRun> latestRun(String windowKey) {
        if (windowKey == null) return Optional.empty();
        List<Map<String, AttributeValue>> index = ledger.partition(INDEX).stream()
                .filter(i -> windowKey.equals(i.get("window").s()))
                .toList();
        if (index.isEmpty()) return Optional.empty();
        String runId = index.get(index.size() - 1).get("runId").s();
        return ledger.get(pk(runId), RUN).map(r -> {
            Map<String, Long> counts = new TreeMap<>();
            if (r.containsKey("counts"))
                read(r.get("counts").s())
                        .properties()
                        .forEach(e -> counts.put(e.getKey(), e.getValue().asLong()));
            return new RolloutGate.PredecessorRun(
                    runId,
                    r.get("status").s(),
                    r.containsKey("finishedAt")
                            ? Instant.parse(r.get("finishedAt").s())
                            : null,
                    counts);
        });
    }

    /** A target finished: the last one to finish completes the run. Returns the events to publish. */
    public List<PutEventsRequest> targetDone(String runId) {
        ledger.increment(pk(runId), RUN, "targetsDone", 1);
        return completeIfDone(runId);
    }

    /**
     * Completes the run when every target has been counted done; safe to call again (after a crash
     * between a target's transaction and this check, its redelivered step calls it once more).
     */
    public List<PutEventsRequest> completeIfDone(String runId) {
        Map<String, AttributeValue> run = ledger.get(pk(runId), RUN).orElse(null);
        if (run == null || !run.containsKey("targetsDone")) return List.of();
        long done = Long.parseLong(run.get("targetsDone").n());
        long total = Long.parseLong(run.get("targetsTotal").n());
        String now = run.get("status").s();
        if (done < total || now.equals("Succeeded") || now.equals("CompletedWithFailures")) return List.of();
        Map<String, Long> counts = new TreeMap<>();
        List<Map<String, AttributeValue>> items = ledger.partition(pk(runId));
        for (Map<String, AttributeValue> item : items) {
            if (item.get("sk").s().startsWith(AmiBuild.PREFIX)) {
                counts.merge(
                        "asgs" + item.get("state").s(), 1L, Long::sum); // asgsRefreshed, asgsFailed, asgsSkipped, …
                continue;
            }
            if (!item.get("sk").s().startsWith("TARGET#")) continue;
            counts.merge("targets" + item.get("state").s(), 1L, Long::sum);
            if (item.containsKey("instances")) {
                read(item.get("instances").s())
                        .properties()
                        .forEach(e -> counts.merge(e.getValue().path("status").asText(), 1L, Long::sum));
            }
        }
        boolean failures = counts.keySet().stream()
                .anyMatch(k -> k.equals("Failed")
                        || k.equals("TimedOut")
                        || k.equals("Cancelled")
                        || k.equals("Undeliverable")
                        || k.equals("targetsFailed")
                        || (k.startsWith("asgs") && ASG_PROBLEMS.contains(k.substring(4))));
        String status = failures ? "CompletedWithFailures" : "Succeeded";
        ObjectNode summary = JSON.valueToTree(counts);
        Map<String, AttributeValue> ended = new HashMap<>(run);
        ended.put("status", Ledger.s(status));
        // the figures people read, kept with the run so a list of runs need not read each run's items
        ObjectNode figures = JSON.valueToTree(RunFigures.of(ended, items, 0));
        figures.remove("problems");
        boolean first = ledger.setIf(
                pk(runId),
                RUN,
                Map.of(
                        "status",
                        Ledger.s(status),
                        "finishedAt",
                        Ledger.s(clock.instant().toString()),
                        "counts",
                        Ledger.s(summary.toString()),
                        "figures",
                        Ledger.s(figures.toString())),
                "#st <> :done AND #st <> :failed",
                Map.of("#st", "status"),
                Map.of(":done", Ledger.s("Succeeded"), ":failed", Ledger.s("CompletedWithFailures")));
        if (!first) return List.of();
        if (run.containsKey("createdAt")) {
            Metrics.runCompleted(
                    status, Duration.between(Instant.parse(run.get("createdAt").s()), clock.instant()), counts);
        }
        LOG.info("Run {} {}: {}", runId, status, counts);
        ObjectNode detail = windowFields(
                        JSON.createObjectNode().put("runId", runId),
                        run.get("window").s())
                .put("status", status)
                .put("occurrence", run.get("occurrence").s());
        detail.set("counts", summary);
        detail.set("figures", figures);
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(eventBus)
                        .source("patchpilot")
                        .detailType("Patch Run Completed")
                        .detail(detail.toString())
                        .build())
                .build());
    }

    /**
     * An event names its window as people know it ({@code window}: {@code Dev_maintenance_window (111122223333)}),
     * with its name and its scope (the owning account, or {@code organization}) for rules and consumers.
     */
    static ObjectNode windowFields(ObjectNode detail, String recorded) {
        return detail.put("window", WindowNames.display(recorded))
                .put("windowName", WindowNames.name(recorded))
                .put("windowScope", WindowNames.scope(recorded));
    }

    /** AutoScaling groups the run did not patch: their build failed, or they cannot be built. */
    private static final Set<String> ASG_PROBLEMS = Set.of("Failed", "NeedsMigration", "Unsupported");

    /** What a run came to (live while it runs), with at most {@code limit} problems listed. */
    public Optional<RunFigures> figures(String runId, int limit) {
        return ledger.get(pk(runId), RUN).map(run -> RunFigures.of(run, ledger.partition(pk(runId)), limit));
    }

    /** What went wrong in a run, for its summary: failed account-regions, instances and groups, at most {@code limit}. */
    public List<RunFigures.Problem> problems(String runId, int limit) {
        return figures(runId, limit).map(RunFigures::problems).orElse(List.of());
    }

    /** {@code Default-20261204T0500Z}, {@code Dev-111111111111-20261204T0500Z}: readable and unique per occurrence. */
    public static String runId(MaintenanceWindow w, Instant occurrence) {
        String at = occurrence.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        return w.environment() + (w.organizationWide() ? "" : "-" + w.account()) + "-" + at;
    }

    private Map<String, AttributeValue> runItem(
            String runId, MaintenanceWindow w, Instant occurrence, List<AccountRegion> scope) {
        Map<String, AttributeValue> item = Ledger.item(pk(runId), RUN);
        ArrayNode targets = JSON.createArrayNode();
        scope.forEach(t -> targets.addObject().put("account", t.account()).put("region", t.region()));
        item.put("runId", Ledger.s(runId));
        item.put("window", Ledger.s(w.key()));
        item.put("windowJson", Ledger.s(toJson(w)));
        item.put("occurrence", Ledger.s(occurrence.toString()));
        item.put("lastStart", Ledger.s(WindowSchedule.lastStart(w, occurrence).toString()));
        item.put("createdAt", Ledger.s(clock.instant().toString()));
        item.put("status", Ledger.s("Dispatching"));
        item.put("scope", Ledger.s(targets.toString()));
        item.put("targetsTotal", AttributeValue.fromN(Integer.toString(scope.size())));
        item.put("targetsDone", AttributeValue.fromN("0"));
        return item;
    }

    private Map<String, AttributeValue> indexItem(String runId, MaintenanceWindow w) {
        Map<String, AttributeValue> item = Ledger.item(INDEX, clock.instant() + "#" + runId);
        item.put("runId", Ledger.s(runId));
        item.put("window", Ledger.s(w.key()));
        return item;
    }

    static String toJson(Object o) {
        try {
            return WindowStore.json().writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("ledger item is not JSON: " + e.getOriginalMessage());
        }
    }
}
