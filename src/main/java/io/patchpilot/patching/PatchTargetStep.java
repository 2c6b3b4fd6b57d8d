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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
    /** Runs an account-region's AutoScaling lookup beside its instance discovery (at most one per work consumer). */
    private final ExecutorService groupLookups = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "patch-group-lookup");
        t.setDaemon(true);
        return t;
    });
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

    /** This delivery's hold on a target: its holder id and until when it holds the lease (by its own clock). */
    private static final class Lease {
        final String holder;
        long until;

        Lease(String holder, long until) {
            this.holder = holder;
            this.until = until;
        }
    }

    /** One delivery of a {@code patch-target} step: the message and the run's facts it carries. */
    private record Step(
            String runId,
            AccountRegion target,
            String body,
            Map<String, AttributeValue> run,
            MaintenanceWindow w,
            Instant lastStart,
            int receives,
            String giveUpToken) {}

    /** Empty when this delivery now holds the claimed target's lease; else how long the current holder still has. */
    private Optional<Long> takeLease(String runId, AccountRegion target, Lease lease) {
        long now = lease.until - leaseMillis;
        boolean taken = ledger.setIf(
                RunKeys.pk(runId),
                sk(target),
                Map.of(
                        "leaseUntil",
                        AttributeValue.fromN(Long.toString(lease.until)),
                        "leaseHolder",
                        Ledger.s(lease.holder)),
                "#st IN (:discovering, :sent) AND (attribute_not_exists(#lease) OR #lease < :now)",
                Map.of("#st", "state", "#lease", "leaseUntil"),
                Map.of(
                        ":discovering",
                        Ledger.s("Discovering"),
                        ":sent",
                        Ledger.s("Sent"),
                        ":now",
                        AttributeValue.fromN(Long.toString(now))));
        if (taken) return Optional.empty();
        long until = ledger.get(RunKeys.pk(runId), sk(target))
                .filter(i -> i.containsKey("leaseUntil"))
                .map(i -> Long.parseLong(i.get("leaseUntil").n()))
                .orElse(now);
        return Optional.of(Math.max(0, until - now));
    }

    /**
     * Before a SendCommand: a lease with at least half its time left outlasts the call (each
     * SendCommand is bounded by half a lease), so it costs nothing; otherwise it is renewed, if this
     * delivery still holds it. A holder slowed past its lease (throttling, retries) may have been
     * taken over: it must not send then.
     */
    private void renewLease(String runId, AccountRegion target, Lease lease) {
        long now = clock.millis();
        if (leaseLeftSuffices(lease.until, now, leaseMillis)) return;
        boolean held = ledger.setIf(
                RunKeys.pk(runId),
                sk(target),
                Map.of("leaseUntil", AttributeValue.fromN(Long.toString(now + leaseMillis))),
                "#st IN (:discovering, :sent) AND #holder = :me",
                Map.of("#st", "state", "#holder", "leaseHolder"),
                Map.of(
                        ":discovering",
                        Ledger.s("Discovering"),
                        ":sent",
                        Ledger.s("Sent"),
                        ":me",
                        Ledger.s(lease.holder)));
        if (!held) throw new LeaseLost();
        lease.until = now + leaseMillis;
    }

    /** A lease held until {@code until} covers a SendCommand starting at {@code now} (bounded by half a lease) without renewal. */
    static boolean leaseLeftSuffices(long until, long now, long leaseMillis) {
        return until - now >= leaseMillis / 2;
    }

    /** After a failed send: a redelivery need not wait the lease out. Best effort (the ledger may be what failed). */
    private void releaseLease(String runId, AccountRegion target, Lease lease) {
        try {
            ledger.setIf(
                    RunKeys.pk(runId),
                    sk(target),
                    Map.of("leaseUntil", AttributeValue.fromN("0")),
                    "#holder = :me",
                    Map.of("#holder", "leaseHolder"),
                    Map.of(":me", Ledger.s(lease.holder)));
        } catch (RuntimeException e) {
            LOG.debug("Run {} {}: lease not released ({}); it runs out", runId, target, e.toString());
        }
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
     * Finds the instances (read only), then claims the account-region with one conditional write:
     * its item, created in state Sent with the instances Pending under this delivery's lease, then
     * sends; the command ids travel in the poll message. A repeated or redelivered step finds the
     * item and acknowledges, waits for the lease, or (the lease run out after a crash) takes over:
     * it looks for the run's commands already sent and sends only to instances none names.
     *
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
        MaintenanceWindow w = window(run);
        Step s = new Step(
                runId,
                target,
                body,
                run,
                w,
                Instant.parse(run.get("lastStart").s()),
                receives,
                StepGiveUp.token(messageAttributes));
        // a redelivery (or a step put back to wait for a lease, or a dead letter sent back) may find
        // its target claimed or ended already
        if (receives > 1
                || m.path("claimed").asBoolean(false)
                || !s.giveUpToken().isEmpty()) {
            Optional<Map<String, AttributeValue>> claimed = ledger.get(RunKeys.pk(runId), sk(target));
            if (claimed.isPresent()) return resume(s, claimed.get());
        }
        return work(s, null);
    }

    /** The target's item exists: acknowledge an ended target, wait for a live lease, or take over. */
    private List<PutEventsRequest> resume(Step s, Map<String, AttributeValue> item) {
        String state = resumed(s.runId(), s.target(), item, s.giveUpToken());
        if (!state.equals("Discovering") && !state.equals("Sent")) {
            LOG.info(
                    "Run {} {}: step repeated, the account-region is {} already; acknowledged",
                    s.runId(),
                    s.target(),
                    state);
            Metrics.duplicateSuppressed("patch-target", 1);
            return runs.completeIfDone(s.runId()); // or lost the run's completion
        }
        // another delivery of this step may be working on it right now (SQS delivers at least once):
        // only the holder of the lease sends; after a crash the lease runs out and this step takes over
        Lease lease = new Lease(UUID.randomUUID().toString(), clock.millis() + leaseMillis);
        Optional<Long> busyFor = takeLease(s.runId(), s.target(), lease);
        if (busyFor.isPresent()) {
            LOG.info(
                    "Run {} {}: another delivery holds the step's lease for {} ms; checking again then",
                    s.runId(),
                    s.target(),
                    busyFor.get());
            Metrics.duplicateSuppressed("patch-target", 1);
            ObjectNode again = (ObjectNode) PatchRuns.read(s.body());
            work.sendLater(again.put("claimed", true).toString(), (int) Math.min(900, busyFor.get() / 1000 + 1));
            return List.of();
        }
        return work(s, lease);
    }

    /**
     * Discover and send. {@code held} is null for a delivery that has not claimed the target (it
     * claims it before sending), else the lease this delivery took over an existing claim with.
     */
    private List<PutEventsRequest> work(Step s, Lease held) {
        String runId = s.runId();
        AccountRegion target = s.target();
        Map<String, AttributeValue> run = s.run();
        Finisher finisher = held == null
                ? (state, reason, found, marks) -> finishUnclaimed(s, state, reason, found, marks)
                : (state, reason, found, marks) -> finish(runId, target, state, reason, found, marks);
        boolean pastCutoff = !clock.instant().isBefore(s.lastStart());
        if (pastCutoff && held == null)
            return finishUnclaimed(s, "CutOff", "window cutoff passed before this account-region started", Map.of());
        TargetDiscovery.Targets found;
        try {
            found = discover(s);
        } catch (RuntimeException e) {
            return ended(
                    runId,
                    target,
                    e,
                    s.receives(),
                    Map.of(),
                    s.body(),
                    held == null ? "Discovering" : "Sent",
                    finisher);
        }
        Map<String, ObjectNode> instances = new LinkedHashMap<>();
        found.skipped().forEach((id, why) -> instances.put(id, outcome("Skipped", why)));
        Lease lease = held;
        if (lease == null) {
            if (found.patch().isEmpty()) return finishUnclaimed(s, "Done", "no instance to patch", instances);
            // the claim, the account-region's one conditional write while dispatching
            lease = new Lease(UUID.randomUUID().toString(), clock.millis() + leaseMillis);
            Map<String, ObjectNode> pending = new LinkedHashMap<>(instances);
            found.patch().forEach(id -> pending.put(id, outcome("Pending", "")));
            Map<String, AttributeValue> claim = Ledger.item(RunKeys.pk(runId), sk(target));
            claim.put("state", Ledger.s("Sent"));
            claim.put("account", Ledger.s(target.account()));
            claim.put("region", Ledger.s(target.region()));
            claim.put("instances", Ledger.s(PatchRuns.toJson(pending)));
            claim.put("leaseUntil", AttributeValue.fromN(Long.toString(lease.until)));
            claim.put("leaseHolder", Ledger.s(lease.holder));
            if (!ledger.putIfAbsent(claim))
                return resume(s, ledger.get(RunKeys.pk(runId), sk(target)).orElseThrow());
        }
        List<String> commandIds;
        try {
            commandIds = sendCommands(
                    runId,
                    target,
                    s.w(),
                    found.patch(),
                    s.lastStart(),
                    Instant.parse(run.get("createdAt").s()),
                    run.containsKey("overrideList") ? run.get("overrideList").s() : "",
                    held == null,
                    lease,
                    !pastCutoff);
        } catch (LeaseLost e) {
            LOG.info("Run {} {}: taken over by another delivery while this one was slow; it sends", runId, target);
            Metrics.duplicateSuppressed("patch-target", 1);
            return List.of();
        } catch (RuntimeException e) {
            releaseLease(runId, target, lease);
            return ended(runId, target, e, s.receives(), instances, s.body(), "Sent");
        }
        found.patch().forEach(id -> instances.put(id, outcome("Pending", "")));
        if (held != null) {
            if (commandIds.isEmpty())
                return pastCutoff
                        ? finish(
                                runId,
                                target,
                                "CutOff",
                                "window cutoff passed before this account-region's commands were sent",
                                instances)
                        : finish(runId, target, "Done", "no instance to patch", instances);
            // a takeover records every command of the run here, an earlier delivery's among them
            boolean mine = ledger.setIf(
                    RunKeys.pk(runId),
                    sk(target),
                    Map.of(
                            "state",
                            Ledger.s("Sent"),
                            "commandIds",
                            Ledger.s(String.join(",", commandIds)),
                            "instances",
                            Ledger.s(PatchRuns.toJson(instances))),
                    "#st IN (:discovering, :sent) AND #holder = :me",
                    Map.of("#st", "state", "#holder", "leaseHolder"),
                    Map.of(
                            ":discovering",
                            Ledger.s("Discovering"),
                            ":sent",
                            Ledger.s("Sent"),
                            ":me",
                            Ledger.s(lease.holder)));
            if (!mine) {
                LOG.info("Run {} {}: taken over by another delivery while this one was slow; it polls", runId, target);
                return List.of();
            }
        }
        schedulePoll(runId, target, 0, commandIds);
        LOG.info(
                "Run {} {}: {} instances in {} commands, {} skipped",
                runId,
                target,
                found.patch().size(),
                commandIds.size(),
                found.skipped().size());
        return List.of();
    }

    /**
     * The account-region's AutoScaling groups join the run (when it includes them) while its
     * instances are found: two independent lookups side by side, both done before it can finish.
     */
    private TargetDiscovery.Targets discover(Step s) {
        Selection selection = selection(s.run(), s.w());
        if (!AmiRefreshes.includes(s.w())) return discovery.find(s.target(), selection, "patching");
        String overrideList = s.run().containsKey("overrideList")
                ? s.run().get("overrideList").s()
                : "";
        Future<?> groups = groupLookups.submit(
                () -> amiRefreshes.register(s.runId(), s.target(), s.w(), selection, overrideList, "patching"));
        TargetDiscovery.Targets found;
        try {
            found = discovery.find(s.target(), selection, "patching");
        } finally {
            joinGroups(groups);
        }
        return found;
    }

    private static void joinGroups(Future<?> groups) {
        try {
            groups.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while registering AutoScaling groups", e);
        }
    }

    /** How a failing step ends its target. */
    @FunctionalInterface
    private interface Finisher {
        List<PutEventsRequest> finish(
                String state, String reason, Map<String, ObjectNode> instances, Map<String, AttributeValue> marks);
    }

    /**
     * A delivery that has not claimed the target ends it only while no item exists (creating it,
     * counted); when another delivery has claimed or ended it meanwhile, this one resumes on that.
     */
    private List<PutEventsRequest> finishUnclaimed(
            Step s, String state, String reason, Map<String, ObjectNode> instances) {
        return finishUnclaimed(s, state, reason, instances, Map.of());
    }

    private List<PutEventsRequest> finishUnclaimed(
            Step s, String state, String reason, Map<String, ObjectNode> instances, Map<String, AttributeValue> marks) {
        if (record(s.runId(), s.target(), state, reason, instances, false, List.of(), marks))
            return runs.completeIfDone(s.runId());
        return resume(s, ledger.get(RunKeys.pk(s.runId()), sk(s.target())).orElseThrow());
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
            Lease lease,
            boolean maySend) {
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
        List<List<String>> unsent = maySend ? unsentChunks(ids, covered) : List.of();
        long timeout = Math.max(30, Duration.between(clock.instant(), lastStart).toSeconds());
        // an earlier delivery's chunks keep their comments; this delivery's are numbered after them
        int offset = commandIds.size();
        for (int i = 0; i < unsent.size(); i++) {
            String comment = "patchpilot " + runId + " " + (offset + i + 1) + "/" + (offset + unsent.size());
            List<String> chunk = unsent.get(i);
            renewLease(runId, target, lease);
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
     * {@code {"type":"patch-poll","runId","account","region","attempt","commandIds"}}: follow the commands.
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
            for (String commandId : commandIds(m, item)) {
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
            schedulePoll(runId, target, attempt + 1, commandIds(m, item));
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
        // the ended account-region keeps the ids of the commands it followed
        record(runId, target, "Done", "", instances, true, commandIds(m, item), Map.of());
        return runs.completeIfDone(runId);
    }

    /**
     * The commands to follow: those a takeover recorded in the item (every command of the run in the
     * account-region, an earlier delivery's among them), else those the poll message carries.
     */
    static List<String> commandIds(JsonNode message, Map<String, AttributeValue> item) {
        String ids = Ledger.text(item, "commandIds");
        if (ids.isEmpty() && message.hasNonNull("commandIds"))
            ids = message.get("commandIds").asText();
        if (ids.isEmpty())
            throw new PermanentFailure(
                    "commandIds: neither the poll message nor the account-region's item names a command");
        return List.of(ids.split(","));
    }

    private void schedulePoll(String runId, AccountRegion target, int attempt, List<String> commandIds) {
        int delay = (int) Math.min(300, pollSeconds * Math.pow(2, Math.min(attempt, 8) / 2.0));
        work.sendLater(
                PatchRuns.JSON
                        .createObjectNode()
                        .put("type", "patch-poll")
                        .put("runId", runId)
                        .put("account", target.account())
                        .put("region", target.region())
                        .put("attempt", attempt)
                        .put("commandIds", String.join(",", commandIds))
                        .toString(),
                delay);
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
        return ended(
                runId,
                target,
                e,
                receives,
                instances,
                body,
                state,
                (st, reason, found, marks) -> finish(runId, target, st, reason, found, marks));
    }

    /** @param state the state the step leaves if it gives up: {@code dlq redrive work} reopens it so */
    private List<PutEventsRequest> ended(
            String runId,
            AccountRegion target,
            RuntimeException e,
            int receives,
            Map<String, ObjectNode> instances,
            String body,
            String state,
            Finisher finisher) {
        String code = AwsErrors.code(e).orElse("");
        if (NOT_ENABLED.contains(code))
            return finisher.finish(
                    "RegionNotEnabled",
                    "region " + target.region() + " is not enabled for this account",
                    Map.of(),
                    Map.of());
        if (AwsErrors.isDenied(e))
            return finisher.finish(
                    "Failed", code + ": " + e.getMessage().lines().findFirst().orElse(""), instances, Map.of());
        if (receives < maxReceiveCount) throw e;
        String reason = PermanentFailure.oneLine("still failing after " + receives + " receives: "
                + (code.isEmpty() ? e.getClass().getSimpleName() : code) + ": " + e.getMessage());
        LOG.warn("Run {} {}: {}; ended as Failed, its step in the DLQ", runId, target, reason);
        String token = UUID.randomUUID().toString();
        // the letter first: a crash before the Failed write repeats the give-up (two letters, one resumes)
        letters.send(body, reason, token);
        return finisher.finish("Failed", reason, instances, StepGiveUp.marks(state, token));
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
        record(runId, target, state, reason, instances, true, List.of(), marks);
        return runs.completeIfDone(runId);
    }

    /**
     * The target's state for a step message: the state it left when it gave up, if this message is
     * that give-up's dead letter sent back (it is reopened so, together with its run); else as it is.
     */
    private String resumed(String runId, AccountRegion target, Map<String, AttributeValue> item, String token) {
        String state = Ledger.text(item, "state");
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
                    .map(i -> Ledger.text(i, "state"))
                    .orElse(state);
        }
        LOG.info("Run {} {}: resumed from the DLQ, {} again after it gave up", runId, target, reopen.get());
        return reopen.get();
    }

    /**
     * The outcome and the run's count of finished targets, written together; false when the
     * condition did not hold: for a claimed target that it is still working (Discovering or Sent),
     * for one not claimed that it has no item yet.
     */
    private boolean record(
            String runId,
            AccountRegion target,
            String state,
            String reason,
            Map<String, ObjectNode> instances,
            boolean claimed,
            List<String> commandIds,
            Map<String, AttributeValue> marks) {
        Map<String, AttributeValue> values = new HashMap<>(marks);
        values.putAll(Map.of(
                "state",
                Ledger.s(state),
                "reason",
                Ledger.s(reason),
                "instances",
                Ledger.s(PatchRuns.toJson(instances)),
                "finishedAt",
                Ledger.s(clock.instant().toString()),
                "account",
                Ledger.s(target.account()),
                "region",
                Ledger.s(target.region())));
        if (!commandIds.isEmpty()) values.put("commandIds", Ledger.s(String.join(",", commandIds)));
        boolean first = ledger.setIfAndCount(
                RunKeys.pk(runId),
                sk(target),
                values,
                claimed ? "#st IN (:discovering, :sent)" : "attribute_not_exists(pk)",
                claimed ? Map.of("#st", "state") : Map.of(),
                claimed ? Map.of(":discovering", Ledger.s("Discovering"), ":sent", Ledger.s("Sent")) : Map.of(),
                RunKeys.RUN,
                "targetsDone");
        if (first) LOG.info("Run {} {}: {} {}", runId, target, state, reason);
        return first;
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
