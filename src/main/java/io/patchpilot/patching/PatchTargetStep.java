package io.patchpilot.patching;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ami.AmiRefreshes;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.errors.TransientBackoff;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.Selection;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.Command;
import software.amazon.awssdk.services.ssm.model.CommandFilter;
import software.amazon.awssdk.services.ssm.model.CommandFilterKey;
import software.amazon.awssdk.services.ssm.model.CommandInvocation;

/**
 * One account × region of a patch run, as short steps: {@code patch-target} finds the instances
 * and sends AWS-RunPatchBaseline (≤ 50 ids per command), then {@code patch-poll} follows the
 * commands with backoff until every invocation has ended, and records each instance's outcome.
 * A redelivered step never sends twice: the run's sent commands are found again by their comment,
 * and the instances they name are not sent to again.
 */
public final class PatchTargetStep {
    private static final Logger LOG = LoggerFactory.getLogger(PatchTargetStep.class);
    private static final Set<String> TERMINAL =
            Set.of("Success", "Failed", "Cancelled", "TimedOut", "Undeliverable", "Terminated");
    private static final Set<String> NOT_ENABLED =
            Set.of("AuthFailure", "OptInRequired", "UnrecognizedClientException", "InvalidClientTokenId");
    private static final int IDS_PER_COMMAND = 50;

    private final AwsClients aws;
    private final Ledger ledger;
    private final TargetDiscovery discovery;
    private final PatchRuns runs;
    private final QueueSender work;
    private final String logsBucket;
    private final int pollSeconds;
    private final long leaseMillis;
    private final int maxReceiveCount;
    private final Clock clock;
    /** Builds patched AMIs for the AutoScaling groups of runs that include them. */
    private final AmiRefreshes amiRefreshes;
    /** Where a step that gives up leaves its message, for {@code dlq redrive work} to resume it. */
    private final GiveUpLetters letters;

    /** Sends a step's message to the work queue's DLQ with its reason and its give-up token. */
    @FunctionalInterface
    public interface GiveUpLetters {
        void send(String body, String reason, String token);
    }

    public PatchTargetStep(
            AwsClients aws,
            Ledger ledger,
            TargetDiscovery discovery,
            PatchRuns runs,
            QueueSender work,
            String logsBucket,
            int pollSeconds,
            int leaseSeconds,
            int maxReceiveCount,
            Clock clock,
            AmiRefreshes amiRefreshes,
            GiveUpLetters letters) {
        this.letters = letters;
        this.leaseMillis = leaseSeconds * 1000L;
        this.maxReceiveCount = maxReceiveCount;
        this.amiRefreshes = amiRefreshes;
        this.aws = aws;
        this.ledger = ledger;
        this.discovery = discovery;
        this.runs = runs;
        this.work = work;
        this.logsBucket = logsBucket;
        this.pollSeconds = pollSeconds;
        this.clock = clock;
    }

    /** Empty when this step now holds the target's lease; else how long the current holder still has. */
    private Optional<Long> takeLease(String runId, AccountRegion target, String holder) {
        long now = clock.millis();
        boolean taken = ledger.setIf(
                RunKeys.pk(runId),
                sk(target),
                Map.of(
                        "leaseUntil",
                        AttributeValue.fromN(Long.toString(now + leaseMillis)),
                        "leaseHolder",
                        Ledger.s(holder)),
                "#st = :discovering AND (attribute_not_exists(#lease) OR #lease < :now)",
                Map.of("#st", "state", "#lease", "leaseUntil"),
                Map.of(":discovering", Ledger.s("Discovering"), ":now", AttributeValue.fromN(Long.toString(now))));
        if (taken) return Optional.empty();
        long until = ledger.get(RunKeys.pk(runId), sk(target))
                .filter(i -> i.containsKey("leaseUntil"))
                .map(i -> Long.parseLong(i.get("leaseUntil").n()))
                .orElse(now);
        return Optional.of(Math.max(0, until - now));
    }

    /**
     * Renews the lease right before a SendCommand, if this delivery still holds it. A holder slowed
     * past its lease (throttling, retries) may have been taken over: it must not send then. Each
     * SendCommand is bounded by half a lease, so a renewed lease outlasts the call it covers.
     */
    private void renewLease(String runId, AccountRegion target, String holder) {
        boolean held = ledger.setIf(
                RunKeys.pk(runId),
                sk(target),
                Map.of("leaseUntil", AttributeValue.fromN(Long.toString(clock.millis() + leaseMillis))),
                "#st = :discovering AND #holder = :me",
                Map.of("#st", "state", "#holder", "leaseHolder"),
                Map.of(":discovering", Ledger.s("Discovering"), ":me", Ledger.s(holder)));
        if (!held) throw new LeaseLost();
    }

    /** Another delivery of the step took the target over (or finished it) while this one was slow. */
    private static final class LeaseLost extends RuntimeException {
        LeaseLost() {
            super("lease taken over", null, false, false);
        }
    }

    private static String sk(AccountRegion t) {
        return "TARGET#" + t.account() + "#" + t.region();
    }

    /** {@code {"type":"patch-target","runId","account","region"}}: discover and send. */
    public List<PutEventsRequest> send(String body) {
        return send(body, Map.of(), Map.of());
    }

    public List<PutEventsRequest> send(String body, Map<?, ?> sqsAttributes) {
        return send(body, sqsAttributes, Map.of());
    }

    /**
     * @param sqsAttributes the message's SQS attributes: on its last allowed receive a still failing
     *     step ends its target as Failed and leaves its message in the DLQ
     * @param messageAttributes the message's own attributes: a dead letter sent back resumes its step
     */
    public List<PutEventsRequest> send(String body, Map<?, ?> sqsAttributes, Map<?, ?> messageAttributes) {
        int receives = TransientBackoff.receiveCount(sqsAttributes);
        JsonNode m = PatchRuns.read(body);
        String runId = m.path("runId").asText();
        AccountRegion target =
                new AccountRegion(m.path("account").asText(), m.path("region").asText());
        Map<String, AttributeValue> run = m.has("windowJson")
                ? runFacts(m)
                : ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .orElseThrow(() -> new PermanentFailure("runId: " + runId + " does not exist"));
        Map<String, AttributeValue> start = Ledger.item(RunKeys.pk(runId), sk(target));
        start.put("state", Ledger.s("Discovering"));
        start.put("account", Ledger.s(target.account()));
        start.put("region", Ledger.s(target.region()));
        start.put("leaseUntil", AttributeValue.fromN(Long.toString(clock.millis() + leaseMillis)));
        String holder = UUID.randomUUID().toString();
        start.put("leaseHolder", Ledger.s(holder));
        boolean first = ledger.putIfAbsent(start);
        if (!first) {
            String state = ledger.get(RunKeys.pk(runId), sk(target))
                    .map(i -> resumed(runId, target, i, StepGiveUp.token(messageAttributes)))
                    .orElse("");
            if (state.equals("Sent")) schedulePoll(runId, target, 0); // a crash may have lost the poll
            if (!state.equals("Discovering")) {
                LOG.info(
                        "Run {} {}: step repeated, the account-region is {} already; acknowledged",
                        runId,
                        target,
                        state);
                Metrics.duplicateSuppressed("patch-target", 1);
                return runs.completeIfDone(runId); // or lost the run's completion
            }
            // another delivery of this step may be working on it right now (SQS delivers at least once):
            // only the holder of the lease sends; after a crash the lease runs out and this step takes over
            Optional<Long> busyFor = takeLease(runId, target, holder);
            if (busyFor.isPresent()) {
                LOG.info(
                        "Run {} {}: another delivery holds the step's lease for {} ms; checking again then",
                        runId,
                        target,
                        busyFor.get());
                Metrics.duplicateSuppressed("patch-target", 1);
                work.sendLater(body, (int) Math.min(900, busyFor.get() / 1000 + 1));
                return List.of();
            }
        }
        MaintenanceWindow w = window(run);
        Instant lastStart = Instant.parse(run.get("lastStart").s());
        if (!clock.instant().isBefore(lastStart))
            return finish(runId, target, "CutOff", "window cutoff passed before this account-region started", Map.of());
        try { // the groups join the run before this account-region can finish it
            amiRefreshes.register(
                    runId,
                    target,
                    w,
                    selection(run, w),
                    run.containsKey("overrideList") ? run.get("overrideList").s() : "");
        } catch (RuntimeException e) {
            return ended(runId, target, e, receives, Map.of(), body, "Discovering");
        }

        TargetDiscovery.Targets found;
        try {
            found = discovery.find(target, selection(run, w), "patching");
        } catch (RuntimeException e) {
            return ended(runId, target, e, receives, Map.of(), body, "Discovering");
        }
        Map<String, ObjectNode> instances = new LinkedHashMap<>();
        found.skipped().forEach((id, why) -> instances.put(id, outcome("Skipped", why)));
        if (found.patch().isEmpty()) return finish(runId, target, "Done", "no instance to patch", instances);

        List<String> commandIds;
        try {
            commandIds = sendCommands(
                    runId,
                    target,
                    w,
                    found.patch(),
                    lastStart,
                    Instant.parse(run.get("createdAt").s()),
                    run.containsKey("overrideList") ? run.get("overrideList").s() : "",
                    first,
                    holder);
        } catch (LeaseLost e) {
            LOG.info("Run {} {}: taken over by another delivery while this one was slow; it sends", runId, target);
            Metrics.duplicateSuppressed("patch-target", 1);
            return List.of();
        } catch (RuntimeException e) {
            return ended(runId, target, e, receives, instances, body, "Discovering");
        }
        found.patch().forEach(id -> instances.put(id, outcome("Pending", "")));
        ledger.setIf(
                RunKeys.pk(runId),
                sk(target),
                Map.of(
                        "state",
                        Ledger.s("Sent"),
                        "commandIds",
                        Ledger.s(String.join(",", commandIds)),
                        "instances",
                        Ledger.s(PatchRuns.toJson(instances))),
                "#st = :discovering",
                Map.of("#st", "state"),
                Map.of(":discovering", Ledger.s("Discovering")));
        schedulePoll(runId, target, 0);
        LOG.info(
                "Run {} {}: {} instances in {} commands, {} skipped",
                runId,
                target,
                found.patch().size(),
                commandIds.size(),
                found.skipped().size());
        return List.of();
    }

    @AwsActions({"ssm:ListCommands", "ssm:SendCommand"})
    private List<String> sendCommands(
            String runId,
            AccountRegion target,
            MaintenanceWindow w,
            List<String> ids,
            Instant lastStart,
            Instant runCreated,
            String overrideList,
            boolean firstDelivery,
            String holder) {
        SsmClient ssm = aws.member(SsmClient.class, target, "patching");
        String document = document(w);
        List<String> commandIds = new ArrayList<>();
        Set<String> covered = new HashSet<>();
        // the delivery that created the target's item cannot have sent anything yet; only a later one
        // looks, and leaves out every instance an earlier delivery's commands already name: discovery
        // may find a different set now (instances tagged meanwhile), so chunks would not line up
        if (!firstDelivery)
            ssm.listCommandsPaginator(r -> r.filters(
                            CommandFilter.builder()
                                    .key(CommandFilterKey.DOCUMENT_NAME)
                                    .value(document)
                                    .build(),
                            CommandFilter.builder()
                                    .key(CommandFilterKey.INVOKED_AFTER)
                                    .value(runCreated
                                            .minus(Duration.ofMinutes(5))
                                            .toString())
                                    .build()))
                    .commands()
                    .forEach((Command c) -> {
                        if (c.comment() != null && c.comment().startsWith("patchpilot " + runId + " ")) {
                            commandIds.add(c.commandId());
                            covered.addAll(c.instanceIds());
                        }
                    });
        List<List<String>> unsent = unsentChunks(ids, covered);
        long timeout = Math.max(30, Duration.between(clock.instant(), lastStart).toSeconds());
        // an earlier delivery's chunks keep their comments; this delivery's are numbered after them
        int offset = commandIds.size();
        for (int i = 0; i < unsent.size(); i++) {
            String comment = "patchpilot " + runId + " " + (offset + i + 1) + "/" + (offset + unsent.size());
            List<String> chunk = unsent.get(i);
            renewLease(runId, target, holder);
            commandIds.add(ssm.sendCommand(
                            r -> r.overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMillis(leaseMillis / 2)))
                                    .documentName(document)
                                    .instanceIds(chunk)
                                    .comment(comment)
                                    .parameters(parameters(w, overrideList))
                                    .maxConcurrency(w.maxConcurrency())
                                    .maxErrors(w.maxErrors())
                                    .timeoutSeconds((int) Math.min(timeout, 172_800))
                                    .outputS3BucketName(logsBucket)
                                    .outputS3KeyPrefix(InvocationDetail.keyPrefix(target, runId)))
                    .command()
                    .commandId());
        }
        return commandIds;
    }

    /** The instances no sent command names yet, in chunks of at most 50 ids (SendCommand's limit), in discovery order. */
    static List<List<String>> unsentChunks(List<String> discovered, Set<String> alreadySent) {
        List<String> remaining =
                discovered.stream().filter(id -> !alreadySent.contains(id)).toList();
        List<List<String>> chunks = new ArrayList<>();
        for (int i = 0; i < remaining.size(); i += IDS_PER_COMMAND)
            chunks.add(remaining.subList(i, Math.min(remaining.size(), i + IDS_PER_COMMAND)));
        return chunks;
    }

    /** Hooks need the wrapper document, which runs them around an Install (it takes no InstallOverrideList). */
    static String document(MaintenanceWindow w) {
        return w.hasHooks() && w.operation().equals("Install")
                ? "AWS-RunPatchBaselineWithHooks"
                : "AWS-RunPatchBaseline";
    }

    /** A window's run selects by its window tag; an emergency by environment, or every instance for All. */
    static Selection selection(Map<String, AttributeValue> run, MaintenanceWindow w) {
        String by = run.containsKey("selectBy") ? run.get("selectBy").s() : "window";
        return switch (by) {
            case "environment" -> Selection.environment(w.environment());
            case "all" -> Selection.all();
            default -> Selection.window(w.name());
        };
    }

    static Map<String, List<String>> parameters(MaintenanceWindow w) {
        return parameters(w, "");
    }

    static Map<String, List<String>> parameters(MaintenanceWindow w, String installOverrideList) {
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        parameters.put("Operation", List.of(w.operation()));
        parameters.put("RebootOption", List.of(w.postPatchOperation()));
        if (!installOverrideList.isEmpty()) parameters.put("InstallOverrideList", List.of(installOverrideList));
        if (document(w).endsWith("WithHooks")) {
            // AWS-Noop is the document's own default for a hook not given
            parameters.put(
                    "PreInstallHookDocName", List.of(w.preInstallHook() == null ? "AWS-Noop" : w.preInstallHook()));
            parameters.put(
                    "PostInstallHookDocName", List.of(w.postInstallHook() == null ? "AWS-Noop" : w.postInstallHook()));
            parameters.put("OnExitHookDocName", List.of(w.onExitHook() == null ? "AWS-Noop" : w.onExitHook()));
        }
        return parameters;
    }

    /**
     * {@code {"type":"patch-poll","runId","account","region","attempt"}}: follow the commands.
     * @param sqsAttributes the message's SQS attributes: on its last allowed receive a still failing poll ends its target as Failed
     */
    public List<PutEventsRequest> poll(String body, Map<?, ?> sqsAttributes) {
        return poll(body, sqsAttributes, Map.of());
    }

    /** @param messageAttributes the message's own attributes: a dead letter sent back resumes its step */
    @AwsActions({"ssm:ListCommandInvocations", "ssm:GetCommandInvocation", "ssm:DescribeInstancePatchStates"})
    public List<PutEventsRequest> poll(String body, Map<?, ?> sqsAttributes, Map<?, ?> messageAttributes) {
        int receives = TransientBackoff.receiveCount(sqsAttributes);
        JsonNode m = PatchRuns.read(body);
        String runId = m.path("runId").asText();
        AccountRegion target =
                new AccountRegion(m.path("account").asText(), m.path("region").asText());
        int attempt = m.path("attempt").asInt(0);
        Map<String, AttributeValue> item = ledger.get(RunKeys.pk(runId), sk(target))
                .orElseThrow(() -> new PermanentFailure("runId: no target " + target + " in run " + runId));
        if (!resumed(runId, target, item, StepGiveUp.token(messageAttributes)).equals("Sent"))
            return runs.completeIfDone(runId);
        JsonNode recorded = PatchRuns.read(item.get("instances").s());
        Map<String, ObjectNode> instances = new LinkedHashMap<>();
        recorded.properties().forEach(e -> instances.put(e.getKey(), (ObjectNode) e.getValue()));
        SsmClient ssm = aws.member(SsmClient.class, target, "patching");
        Set<String> seen = new HashSet<>();
        boolean allEnded = true;
        try {
            for (String commandId : item.get("commandIds").s().split(",")) {
                for (CommandInvocation inv : ssm.listCommandInvocationsPaginator(
                                r -> r.commandId(commandId).details(true).maxResults(50))
                        .commandInvocations()) {
                    seen.add(inv.instanceId());
                    String status = inv.statusAsString();
                    if (!TERMINAL.contains(status)) {
                        allEnded = false;
                        continue;
                    }
                    String details = inv.statusDetails() == null ? "" : inv.statusDetails();
                    ObjectNode o = outcome(
                            status.equals("Cancelled") && details.equals("Terminated") ? "Cancelled" : status,
                            status.equals("Success") ? "" : details);
                    InvocationDetail.fromListing(o, inv);
                    instances.put(inv.instanceId(), o);
                }
            }
        } catch (RuntimeException e) {
            return ended(runId, target, e, receives, instances, body, "Sent");
        }
        if (!allEnded || seen.isEmpty()) {
            schedulePoll(runId, target, attempt + 1);
            return List.of();
        }
        // the why of what did not succeed: one GetCommandInvocation each, for the first few of an account-region
        int read = 0;
        for (Map.Entry<String, ObjectNode> e : instances.entrySet()) {
            ObjectNode o = e.getValue();
            String status = o.path("status").asText();
            if (status.equals("Pending")) {
                o.put("status", "Undeliverable")
                        .put("reason", "no invocation reported")
                        .put("outputUnavailable", "no invocation of the command was reported for this instance");
                continue;
            }
            if (status.equals("Success") || status.equals("Skipped") || !o.has("commandId")) continue;
            String location = InvocationDetail.outputLocation(
                    logsBucket,
                    InvocationDetail.keyPrefix(target, runId),
                    o.path("commandId").asText(),
                    e.getKey());
            if (read++ < InvocationDetail.READ_PER_TARGET) {
                InvocationDetail.why(o, ssm, e.getKey(), location);
            } else {
                o.put("outputLocation", location)
                        .put(
                                "outputUnavailable",
                                "not read: more than " + InvocationDetail.READ_PER_TARGET
                                        + " failed instances in this account-region; the full output is at "
                                        + location);
            }
        }
        InvocationDetail.patchStates(ssm, instances);
        return finish(runId, target, "Done", "", instances);
    }

    private void schedulePoll(String runId, AccountRegion target, int attempt) {
        int delay = (int) Math.min(300, pollSeconds * Math.pow(2, Math.min(attempt, 8) / 2.0));
        work.sendLater(
                PatchRuns.JSON
                        .createObjectNode()
                        .put("type", "patch-poll")
                        .put("runId", runId)
                        .put("account", target.account())
                        .put("region", target.region())
                        .put("attempt", attempt)
                        .toString(),
                delay);
    }

    /**
     * The target's state for a step message: the state it left when it gave up, if this message is
     * that give-up's dead letter sent back (it is reopened so, together with its run); else as it is.
     */
    private String resumed(String runId, AccountRegion target, Map<String, AttributeValue> item, String token) {
        String state = item.get("state").s();
        Optional<String> reopen = StepGiveUp.reopenTo(item, token);
        if (reopen.isEmpty()) return state;
        boolean reopened = ledger.changeBothIf(
                RunKeys.pk(runId),
                sk(target),
                StepGiveUp.reopenTarget(reopen.get(), clock.instant()),
                StepGiveUp.CONDITION,
                StepGiveUp.conditionNames(),
                StepGiveUp.conditionValues(token),
                RunKeys.RUN,
                StepGiveUp.reopenRun());
        if (!reopened) {
            // another copy of the letter reopened it first
            return ledger.get(RunKeys.pk(runId), sk(target))
                    .map(i -> i.get("state").s())
                    .orElse(state);
        }
        LOG.info("Run {} {}: resumed from the DLQ, {} again after it gave up", runId, target, reopen.get());
        return reopen.get();
    }

    /**
     * Access denied ends the account-region as Failed, a region not enabled as RegionNotEnabled, and
     * so does a transient failure on the message's last allowed receive: the step gives up, its
     * message goes to the DLQ with the reason (for {@code dlq redrive work} to resume it, see
     * {@link StepGiveUp}) and the run is followed to its end meanwhile; all let the run go on.
     * Otherwise the failure is rethrown for SQS to redeliver the step.
     */
    private List<PutEventsRequest> ended(
            String runId,
            AccountRegion target,
            RuntimeException e,
            int receives,
            Map<String, ObjectNode> instances,
            String body,
            String state) {
        String code = AwsErrors.code(e).orElse("");
        if (NOT_ENABLED.contains(code))
            return finish(
                    runId,
                    target,
                    "RegionNotEnabled",
                    "region " + target.region() + " is not enabled for this account",
                    Map.of());
        if (AwsErrors.isDenied(e))
            return finish(
                    runId,
                    target,
                    "Failed",
                    code + ": " + e.getMessage().lines().findFirst().orElse(""),
                    instances);
        if (receives < maxReceiveCount) throw e;
        String reason = PermanentFailure.oneLine("still failing after " + receives + " receives: "
                + (code.isEmpty() ? e.getClass().getSimpleName() : code) + ": " + e.getMessage());
        LOG.warn("Run {} {}: {}; ended as Failed, its step in the DLQ", runId, target, reason);
        String token = UUID.randomUUID().toString();
        // the letter first: a crash before the Failed write repeats the give-up (two letters, one resumes)
        letters.send(body, reason, token);
        return finish(runId, target, "Failed", reason, instances, StepGiveUp.marks(state, token));
    }

    private List<PutEventsRequest> finish(
            String runId, AccountRegion target, String state, String reason, Map<String, ObjectNode> instances) {
        return finish(runId, target, state, reason, instances, Map.of());
    }

    private List<PutEventsRequest> finish(
            String runId,
            AccountRegion target,
            String state,
            String reason,
            Map<String, ObjectNode> instances,
            Map<String, AttributeValue> marks) {
        Map<String, AttributeValue> values = new HashMap<>(marks);
        values.put("state", Ledger.s(state));
        values.put("reason", Ledger.s(reason));
        values.put("instances", Ledger.s(PatchRuns.toJson(instances)));
        values.put("finishedAt", Ledger.s(clock.instant().toString()));
        // the outcome and the run's count of finished targets are written together
        boolean first = ledger.setIfAndCount(
                RunKeys.pk(runId),
                sk(target),
                values,
                "#st IN (:discovering, :sent)",
                Map.of("#st", "state"),
                Map.of(":discovering", Ledger.s("Discovering"), ":sent", Ledger.s("Sent")),
                RunKeys.RUN,
                "targetsDone");
        if (first) LOG.info("Run {} {}: {} {}", runId, target, state, reason);
        return runs.completeIfDone(runId);
    }

    private static ObjectNode outcome(String status, String reason) {
        return PatchRuns.JSON.createObjectNode().put("status", status).put("reason", reason);
    }

    /** The run's facts as dispatch put them into the step message (the same attributes as the run item). */
    private static Map<String, AttributeValue> runFacts(JsonNode m) {
        Map<String, AttributeValue> run = new HashMap<>();
        for (String k : List.of("runId", "windowJson", "lastStart", "createdAt", "selectBy", "overrideList")) {
            if (m.hasNonNull(k)) run.put(k, Ledger.s(m.get(k).asText()));
        }
        return run;
    }

    private static MaintenanceWindow window(Map<String, AttributeValue> run) {
        try {
            return WindowStore.json().readValue(run.get("windowJson").s(), MaintenanceWindow.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("run " + run.get("runId").s() + " has an unreadable window", e);
        }
    }
}
