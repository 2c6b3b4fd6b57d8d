package io.patchpilot.patching;

import static io.patchpilot.ledger.RunKeys.INDEX;
import static io.patchpilot.ledger.RunKeys.RUN;
import static io.patchpilot.ledger.RunKeys.pk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ami.AmiBuild;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.aws.SenderIds;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.windows.FireCheck;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowNames;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
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
    /** The {@code kind} of a run started by {@code window run}. */
    public static final String MANUAL = "manual";

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

    /** {@code {"type":"window-fire","window":"Dev_maintenance_window","account":"…","time":"…"}} */
    public List<PutEventsRequest> fire(String body) {
        JsonNode m = JsonBodies.object(body);
        String name = m.path("window").asText("");
        if (!name.endsWith("_maintenance_window"))
            throw new PermanentFailure("window: '" + name + "' is not a window name such as Dev_maintenance_window");
        String account = m.hasNonNull("account") ? m.get("account").asText() : null;
        if (account != null && !account.matches("\\d{12}"))
            throw new PermanentFailure("account: '" + account + "' is not a 12-digit account id");
        Instant carried;
        try {
            carried = m.hasNonNull("time") ? Instant.parse(m.get("time").asText()) : null;
        } catch (DateTimeParseException e) {
            throw new PermanentFailure("time: '" + m.get("time").asText() + "' is not an ISO-8601 instant");
        }
        String key = (account == null ? WindowDirectory.ORGANIZATION_WIDE : account) + "#" + name;
        MaintenanceWindow w =
                windows.get(key).orElseThrow(() -> new PermanentFailure("window: " + key + " does not exist"));
        FireCheck check = FireCheck.of(w, carried, clock.instant());
        switch (check.verdict()) {
            case NOT_AN_OCCURRENCE -> {
                Metrics.withoutEffect("window-fire", "not-an-occurrence");
                throw new PermanentFailure(check.reason());
            }
            case RULE_CANDIDATE -> {
                Metrics.withoutEffect("window-fire", "rule-candidate");
                LOG.info("{} fire starts nothing: {}", key, check.reason());
                return List.of();
            }
            case RUN -> {}
        }
        Instant occurrence = check.occurrence().orElseThrow();
        String runId = runId(w, occurrence);
        Map<String, AttributeValue> run = ledger.get(pk(runId), RUN).orElse(null);
        if (run == null) {
            requireActiveOwner(w);
            Optional<String> blocked = RolloutGate.blockReason(w, occurrence, latestRun(w.predecessorKey()));
            if (blocked.isPresent()) return block(runId, w, occurrence, blocked.get(), Map.of());
            // a delivery that loses the race to create the run acknowledges the winner's below
            if (ledger.putIfAbsent(runItem(runId, w, occurrence, scopeOf(w)))) ledger.put(indexItem(runId, w));
            run = ledger.get(pk(runId), RUN).orElseThrow();
        }
        return dispatchOrAcknowledge(runId, run, "window-fire", "fire message for " + occurrence);
    }

    /**
     * {@code {"type":"window-run","window":…,"account":…,"skipGate":…,"reason":…,"requestedAt":…}}: a
     * run of the window now, outside its schedule, with its own parameters (deadline: the request's
     * minute + duration − cutoff), through the rollout gate unless skipped with a reason. The
     * caller is the message's SQS sender; one run per window and minute ({@link #manualRunId}).
     */
    public List<PutEventsRequest> runNow(String body, Map<?, ?> sqsAttributes) {
        WindowRunRequest r = WindowRunRequest.parse(body, clock.instant());
        String sender = Optional.ofNullable(SenderIds.of(sqsAttributes)).orElse("unknown");
        String key = (r.account() == null ? WindowDirectory.ORGANIZATION_WIDE : r.account()) + "#" + r.window();
        MaintenanceWindow w =
                windows.get(key).orElseThrow(() -> new PermanentFailure("window: " + key + " does not exist"));
        Instant at = r.requestedAt();
        String runId = manualRunId(w, at);
        Map<String, AttributeValue> run = ledger.get(pk(runId), RUN).orElse(null);
        if (run == null) {
            Instant lastStart = WindowSchedule.lastStart(w, at);
            if (!clock.instant().isBefore(lastStart)) {
                throw new PermanentFailure("requestedAt: " + at + " is too long ago: the run's last start " + lastStart
                        + " (duration - cutoff) passed before it could start; run the window again");
            }
            requireActiveOwner(w);
            Map<String, AttributeValue> extra = new HashMap<>();
            extra.put("kind", Ledger.s(MANUAL));
            extra.put("requester", Ledger.s(sender));
            Optional<String> blocked = RolloutGate.blockReason(w, at, latestRun(w.predecessorKey()));
            if (blocked.isPresent() && !r.skipGate()) return block(runId, w, at, blocked.get(), extra);
            if (r.skipGate()) {
                extra.put("gateSkippedBy", Ledger.s(sender));
                extra.put("gateSkipReason", Ledger.s(r.reason()));
                extra.put(
                        "note",
                        Ledger.s("manual run by " + sender + "; rollout gate skipped: " + r.reason()
                                + blocked.map(b -> " (the gate said: " + b + ")")
                                        .orElse(" (the gate would have let it run)")));
            } else {
                extra.put(
                        "note", Ledger.s("manual run by " + sender + (r.reason().isEmpty() ? "" : ": " + r.reason())));
            }
            Map<String, AttributeValue> item = runItem(runId, w, at, scopeOf(w));
            item.putAll(extra);
            if (ledger.putIfAbsent(item)) {
                ledger.put(indexItem(runId, w));
                LOG.info(
                        "Run {}: {} run now by {}{}",
                        runId,
                        key,
                        sender,
                        r.skipGate() ? ", rollout gate skipped: " + r.reason() : "");
            }
            run = ledger.get(pk(runId), RUN).orElseThrow();
        } else if (r.skipGate() && "Blocked".equals(run.get("status").s())) {
            run = unblock(runId, w, run, sender, r.reason());
        }
        return dispatchOrAcknowledge(runId, run, "window-run", "window-run message from " + sender);
    }

    /**
     * The gate held this minute's manual run and its operator now skips it (the usual next step,
     * often within the same minute): the Blocked run becomes a dispatched one, once, recording who
     * skipped the gate and why.
     */
    private Map<String, AttributeValue> unblock(
            String runId, MaintenanceWindow w, Map<String, AttributeValue> run, String sender, String reason) {
        List<AccountRegion> scope = scopeOf(w);
        ArrayNode targets = JSON.createArrayNode();
        scope.forEach(t -> targets.addObject().put("account", t.account()).put("region", t.region()));
        boolean won = ledger.setIf(
                pk(runId),
                RUN,
                Map.of(
                        "status", Ledger.s("Dispatching"),
                        "scope", Ledger.s(targets.toString()),
                        "targetsTotal", AttributeValue.fromN(Integer.toString(scope.size())),
                        "gateSkippedBy", Ledger.s(sender),
                        "gateSkipReason", Ledger.s(reason),
                        "reason", Ledger.s(""),
                        "note",
                                Ledger.s("manual run by " + sender + "; rollout gate skipped: " + reason
                                        + " (the gate said: "
                                        + run.get("reason").s() + ")")),
                "#st = :blocked",
                Map.of("#st", "status"),
                Map.of(":blocked", Ledger.s("Blocked")));
        if (won) LOG.info("Run {}: rollout gate skipped by {}: {}", runId, sender, reason);
        return ledger.get(pk(runId), RUN).orElseThrow();
    }

    /** {@code Default-manual-20261207T1530Z}, {@code Dev-111111111111-manual-20261207T1530Z}: one per window and minute. */
    public static String manualRunId(MaintenanceWindow w, Instant requestedAt) {
        String at = requestedAt
                .truncatedTo(ChronoUnit.MINUTES)
                .toString()
                .replace("-", "")
                .replace(":", "")
                .replaceAll("00Z$", "Z");
        return w.environment() + (w.organizationWide() ? "" : "-" + w.account()) + "-manual-" + at;
    }

    private void requireActiveOwner(MaintenanceWindow w) {
        if (w.account() != null && !organization.isActiveMember(w.account())) {
            throw new PermanentFailure("account: " + w.account() + " owns " + w.name()
                    + " but is not an active account of the organization");
        }
    }

    private List<AccountRegion> scopeOf(MaintenanceWindow w) {
        List<AccountRegion> scope = new ArrayList<>();
        for (String a : w.organizationWide() ? organization.activeAccounts() : List.of(w.account())) {
            for (String r : regions) scope.add(new AccountRegion(a, r));
        }
        return scope;
    }

    /** A new run is dispatched; one that exists already (a repeated message) is acknowledged, saying so. */
    private List<PutEventsRequest> dispatchOrAcknowledge(
            String runId, Map<String, AttributeValue> run, String kind, String what) {
        if (!"Dispatching".equals(run.get("status").s())) {
            LOG.info(
                    "Run {} exists ({}): {} acknowledged",
                    runId,
                    run.get("status").s(),
                    what);
            Metrics.duplicateSuppressed(kind, 1);
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
    private List<PutEventsRequest> block(
            String runId, MaintenanceWindow w, Instant occurrence, String reason, Map<String, AttributeValue> extra) {
        Map<String, AttributeValue> item = runItem(runId, w, occurrence, List.of());
        item.putAll(extra);
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
        // a run ends again after a step that gave up is resumed: its completions are counted
        long completion = run.containsKey("completions")
                ? Long.parseLong(run.get("completions").n()) + 1
                : 1;
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
                        Ledger.s(figures.toString()),
                        "completions",
                        AttributeValue.fromN(Long.toString(completion))),
                // and not reopened meanwhile (a redriven step that gave up counts one target fewer done)
                "#st <> :done AND #st <> :failed AND #n = :n",
                Map.of("#st", "status", "#n", "targetsDone"),
                Map.of(
                        ":done",
                        Ledger.s("Succeeded"),
                        ":failed",
                        Ledger.s("CompletedWithFailures"),
                        ":n",
                        AttributeValue.fromN(Long.toString(done))));
        if (!first) return List.of();
        if (completion > 1) {
            Metrics.instancesEnded(newSince(
                    counts, run.containsKey("counts") ? run.get("counts").s() : "{}"));
        } else if (run.containsKey("createdAt")) {
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
        // the run ended before, and a resumed step reopened it: these figures replace those
        if (completion > 1) detail.put("recompletion", true).put("completion", completion);
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(eventBus)
                        .source("patchpilot")
                        .detailType("Patch Run Completed")
                        .detail(detail.toString())
                        .build())
                .build());
    }

    /** The counts that grew since an earlier end's counts (JSON, as the run item keeps them), by how much. */
    static Map<String, Long> newSince(Map<String, Long> counts, String earlierJson) {
        JsonNode earlier = read(earlierJson);
        Map<String, Long> grown = new TreeMap<>();
        counts.forEach((k, n) -> {
            long more = n - earlier.path(k).asLong(0);
            if (more > 0) grown.put(k, more);
        });
        return grown;
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
