package io.patchpilot.emergency;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.windows.MaintenanceWindow;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Emergency patching: a request from an allowed sender becomes one run per request id, over the
 * chosen accounts × regions, ignoring windows. Environments that need approval hold it
 * {@code PendingApproval} until an allowed approver other than the requester approves (it is
 * then dispatched), rejects it, or it expires. Identities are SQS's {@code SenderId}, never the body.
 */
public final class EmergencyRuns {
    private static final Logger LOG = LoggerFactory.getLogger(EmergencyRuns.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String KIND = "emergency";

    private final EmergencyValidator validator;
    private final Principals requesters;
    private final Principals approvers;
    private final Set<String> approvalRequired;
    private final Duration approvalExpiry;
    private final Duration deadline;
    private final PatchRuns runs;
    private final Ledger ledger;
    private final Organization organization;
    private final List<String> regions;
    private final QueueSender work;
    private final String eventBus;
    private final Clock clock;

    public EmergencyRuns(
            EmergencyValidator validator,
            Principals requesters,
            Principals approvers,
            Set<String> approvalRequired,
            Duration approvalExpiry,
            Duration deadline,
            PatchRuns runs,
            Ledger ledger,
            Organization organization,
            List<String> regions,
            QueueSender work,
            String eventBus,
            Clock clock) {
        this.validator = validator;
        this.requesters = requesters;
        this.approvers = approvers;
        this.approvalRequired = Set.copyOf(approvalRequired);
        this.approvalExpiry = approvalExpiry;
        this.deadline = deadline;
        this.runs = runs;
        this.ledger = ledger;
        this.organization = organization;
        this.regions = List.copyOf(regions);
        this.work = work;
        this.eventBus = eventBus;
        this.clock = clock;
    }

    /** A message on patchpilot-emergency, with the SQS system attributes it arrived with. */
    public List<PutEventsRequest> request(String body, Map<?, ?> sqsAttributes) {
        String sender = Principals.senderOf(sqsAttributes);
        if (!requesters.allows(sender)) {
            throw new PermanentFailure(
                    "sender: " + sender + " may not request emergency runs (patchpilot.emergency.requesters)");
        }
        EmergencyRequest r = validator.validate(body);
        String runId = r.requestId();
        Map<String, AttributeValue> existing =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElse(null);
        if (existing != null) return repeated(runId, existing);

        List<AccountRegion> scope = new ArrayList<>();
        for (String a : r.accounts().isEmpty() ? organization.activeAccounts() : r.accounts()) {
            for (String region : r.regions().isEmpty() ? regions : r.regions()) scope.add(new AccountRegion(a, region));
        }
        boolean approval = approvalRequired.contains(r.env());
        Instant now = clock.instant();
        Map<String, AttributeValue> extra = new HashMap<>();
        extra.put("kind", Ledger.s(KIND));
        extra.put("status", Ledger.s(approval ? "PendingApproval" : "Dispatching"));
        extra.put("requester", Ledger.s(sender));
        extra.put("reason", Ledger.s(r.reason()));
        extra.put("selectBy", Ledger.s(r.env().equals("All") ? "all" : "environment"));
        extra.put("overrideList", Ledger.s(r.installOverrideList()));
        extra.put("request", Ledger.s(JSON.valueToTree(r).toString()));
        if (approval) extra.put("expiresAt", Ledger.s(now.plus(approvalExpiry).toString()));
        if (!runs.createUnscheduled(
                runId,
                "emergency:" + r.env(),
                parameters(r),
                scope,
                now.plus(approvalExpiry).plus(deadline),
                extra)) {
            return repeated(runId, ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow());
        }
        LOG.info(
                "Emergency run {} requested by {} for {} ({} account-regions){}",
                runId,
                sender,
                r.env(),
                scope.size(),
                approval ? ", waiting for approval" : "");
        if (approval) {
            scheduleExpiryCheck(runId, approvalExpiry);
            return event(
                    "Emergency Approval Needed",
                    detail(runId, r.env(), sender, r.reason())
                            .put("expiresAt", now.plus(approvalExpiry).toString())
                            .put("accountRegions", scope.size()));
        }
        runs.dispatch(runId, ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow());
        return event(
                "Emergency Run Started",
                detail(runId, r.env(), sender, r.reason()).put("accountRegions", scope.size()));
    }

    /** The same request id again: acknowledged, not re-run (a run left Dispatching by a crash is sent on). */
    private List<PutEventsRequest> repeated(String runId, Map<String, AttributeValue> run) {
        if (!run.containsKey("kind") || !run.get("kind").s().equals(KIND)) {
            throw new PermanentFailure("requestId: " + runId + " is already the id of a scheduled run; choose another");
        }
        LOG.info(
                "Emergency request {} repeated ({}): acknowledged",
                runId,
                run.get("status").s());
        Metrics.duplicateSuppressed("emergency-request", 1);
        if (run.get("status").s().equals("Dispatching")) runs.dispatch(runId, run);
        return List.of();
    }

    /** The body of a message on patchpilot-approvals. */
    public record Decision(String requestId, String decision) {
        /** {@code {"requestId":"chg-4711","decision":"approve"|"reject"}}; else a failure naming each bad field. */
        public static Decision parse(String body) {
            JsonNode m = JsonBodies.object(body);
            List<String> problems = new ArrayList<>();
            for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("requestId") && !f.equals("decision")) problems.add(f + ": unknown field");
            }
            String runId = m.path("requestId").isTextual() ? m.get("requestId").asText() : null;
            if (runId == null) problems.add("requestId: required");
            String decision = m.path("decision").asText("");
            if (!decision.equals("approve") && !decision.equals("reject"))
                problems.add("decision: '" + decision + "' is not one of approve, reject");
            if (!problems.isEmpty()) throw new PermanentFailure(String.join("; ", problems));
            return new Decision(runId, decision);
        }
    }

    /** A message on patchpilot-approvals: {@code {"requestId":"chg-4711","decision":"approve"|"reject"}}. */
    public List<PutEventsRequest> decide(String body, Map<?, ?> sqsAttributes) {
        String sender = Principals.senderOf(sqsAttributes);
        if (!approvers.allows(sender)) {
            throw new PermanentFailure(
                    "sender: " + sender + " may not approve emergency runs (patchpilot.emergency.approvers)");
        }
        Decision d = Decision.parse(body);
        String runId = d.requestId();
        String decision = d.decision();

        Map<String, AttributeValue> run = ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                .filter(r -> r.containsKey("kind") && r.get("kind").s().equals(KIND))
                .orElseThrow(() -> new PermanentFailure("requestId: " + runId + " has no emergency run"));
        String status = run.get("status").s();
        if (!status.equals("PendingApproval"))
            throw new PermanentFailure("requestId: " + runId + " is " + status + ", not waiting for approval");
        if (sender.equals(run.get("requester").s()))
            throw new PermanentFailure("sender: the requester of " + runId + " cannot also approve or reject it");
        Instant expiresAt = Instant.parse(run.get("expiresAt").s());
        if (!clock.instant().isBefore(expiresAt)) {
            throw new PermanentFailure("requestId: " + runId + " expired at " + expiresAt + "; send a new request");
        }
        String next = decision.equals("approve") ? "Dispatching" : "Rejected";
        Map<String, AttributeValue> set = new HashMap<>(Map.of(
                "status",
                Ledger.s(next),
                "approver",
                Ledger.s(sender),
                "decidedAt",
                Ledger.s(clock.instant().toString())));
        if (next.equals("Rejected"))
            set.put("finishedAt", Ledger.s(clock.instant().toString()));
        boolean won = ledger.setIf(
                RunKeys.pk(runId),
                RunKeys.RUN,
                set,
                "#st = :pending",
                Map.of("#st", "status"),
                Map.of(":pending", Ledger.s("PendingApproval")));
        if (!won) { // decided meanwhile by another message
            LOG.info("Emergency run {}: {} by {} came after another decision; acknowledged", runId, decision, sender);
            Metrics.withoutEffect("approval", "already-decided");
            return List.of();
        }
        LOG.info("Emergency run {} {} by {}", runId, next.equals("Rejected") ? "rejected" : "approved", sender);
        if (next.equals("Dispatching"))
            runs.dispatch(runId, ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow());
        return event(
                "Emergency Run Decided",
                detail(
                                runId,
                                run.get("window").s().replace("emergency:", ""),
                                run.get("requester").s(),
                                run.get("reason").s())
                        .put("decision", next.equals("Rejected") ? "rejected" : "approved")
                        .put("approver", sender));
    }

    /** {@code {"type":"emergency-expire","runId"}}: a request still waiting at its expiry ends Expired. */
    public List<PutEventsRequest> expire(String body) {
        String runId = JsonBodies.object(body).path("runId").asText();
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElse(null);
        if (run == null || !run.get("status").s().equals("PendingApproval")) {
            LOG.info(
                    "Emergency run {}: expiry check finds it {}; nothing to expire",
                    runId,
                    run == null ? "gone" : run.get("status").s());
            return List.of();
        }
        Instant expiresAt = Instant.parse(run.get("expiresAt").s());
        Duration left = Duration.between(clock.instant(), expiresAt);
        if (!left.isNegative() && !left.isZero()) {
            scheduleExpiryCheck(runId, left);
            return List.of();
        }
        boolean won = ledger.setIf(
                RunKeys.pk(runId),
                RunKeys.RUN,
                Map.of(
                        "status",
                        Ledger.s("Expired"),
                        "finishedAt",
                        Ledger.s(clock.instant().toString())),
                "#st = :pending",
                Map.of("#st", "status"),
                Map.of(":pending", Ledger.s("PendingApproval")));
        if (!won) {
            LOG.info("Emergency run {}: decided just before its expiry; nothing to expire", runId);
            return List.of();
        }
        LOG.info("Emergency run {} expired without a decision", runId);
        return event(
                "Emergency Run Decided",
                detail(
                                runId,
                                run.get("window").s().replace("emergency:", ""),
                                run.get("requester").s(),
                                run.get("reason").s())
                        .put("decision", "expired"));
    }

    /** SQS delays at most 15 minutes: a longer wait is a chain of checks. */
    private void scheduleExpiryCheck(String runId, Duration in) {
        int delay = (int) Math.max(1, Math.min(900, in.toSeconds() + 1));
        work.sendLater(
                JSON.createObjectNode()
                        .put("type", "emergency-expire")
                        .put("runId", runId)
                        .toString(),
                delay);
    }

    /** The patch parameters as a window would carry them (no schedule: emergencies ignore windows). */
    static MaintenanceWindow parameters(EmergencyRequest r) {
        return new MaintenanceWindow(
                null,
                r.env(),
                7,
                DayOfWeek.FRIDAY,
                0,
                23,
                0,
                r.operation(),
                r.postPatchOperation(),
                r.includeAsg() ? "Yes" : "No",
                r.retainHealthyPercentage(),
                r.refreshAsgInstances() ? "Yes" : "No",
                null,
                null,
                "UTC",
                r.maxConcurrency(),
                r.maxErrors(),
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    private static ObjectNode detail(String runId, String env, String requester, String reason) {
        return JSON.createObjectNode()
                .put("runId", runId)
                .put("env", env)
                .put("requester", requester)
                .put("reason", reason);
    }

    private List<PutEventsRequest> event(String detailType, ObjectNode detail) {
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(eventBus)
                        .source("patchpilot")
                        .detailType(detailType)
                        .detail(detail.toString())
                        .build())
                .build());
    }
}
