package io.patchpilot.tagging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.errors.TransientBackoff;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.windows.WindowParameterSweep;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;

/**
 * The reconcile sweep: catches what events missed. A {@code reconcile} message fans out one
 * {@code reconcile-item} work message per ACTIVE account × configured region; each item lists
 * every instance and group there (paginated), applies the tag policy and writes in bulk.
 */
public final class ReconcileSweep {
    private static final Logger LOG = LoggerFactory.getLogger(ReconcileSweep.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The sort key of a sweep's status item (partition {@link #pk}): total, done and failed account-regions. */
    public static final String SWEEP = "SWEEP";

    private static final Pattern ID = Pattern.compile("reconcile-[A-Za-z0-9-]{1,60}");

    private final QueueSender work;
    private final Organization organization;
    private final TagWriter writer;
    private final TagAudit audit;
    private final Ledger ledger;
    private final PatchpilotConfig config;
    private final Clock clock;
    private final WindowParameterSweep windowParameters;

    public ReconcileSweep(
            QueueSender work,
            Organization organization,
            TagWriter writer,
            TagAudit audit,
            Ledger ledger,
            PatchpilotConfig config,
            Clock clock,
            WindowParameterSweep windowParameters) {
        this.windowParameters = windowParameters;
        this.work = work;
        this.organization = organization;
        this.writer = writer;
        this.audit = audit;
        this.ledger = ledger;
        this.config = config;
        this.clock = clock;
    }

    public List<AccountRegion> scope() {
        List<AccountRegion> scope = new ArrayList<>();
        for (String account : organization.activeAccounts()) {
            for (String region : config.regions()) scope.add(new AccountRegion(account, region));
        }
        return scope;
    }

    public static String pk(String sweepId) {
        return "RECONCILE#" + sweepId;
    }

    /** A new sweep's id: {@code reconcile-20261207T153012Z-1a2b3c4d}. */
    public static String newId(Clock clock) {
        return "reconcile-"
                + clock.instant()
                        .truncatedTo(ChronoUnit.SECONDS)
                        .toString()
                        .replace(":", "")
                        .replace("-", "")
                + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * {@code {"type":"reconcile","id":…}}: a sweep of every account × region. {@code id} (optional,
     * {@code reconcile-…}) names it, so the sender can follow it; the same id again is one sweep.
     */
    public String start(String body) {
        JsonNode m = JsonBodies.object(body);
        String id = m.hasNonNull("id") ? m.get("id").asText() : newId(clock);
        if (!ID.matcher(id).matches())
            throw new PermanentFailure("id: '" + id + "' is not a sweep id such as reconcile-20261207T1530Z-1a2b");
        return fanOut(id, scope());
    }

    /** Splits a sweep into one work message per account × region. Returns the run id. */
    public String fanOut() {
        return fanOut(newId(clock), scope());
    }

    /** A sweep of one account's regions (its windows changed). */
    public String fanOutAccount(String account) {
        return fanOut(
                newId(clock),
                config.regions().stream()
                        .map(r -> new AccountRegion(account, r))
                        .toList());
    }

    /**
     * Records the sweep's status item once (one conditional write; its items count themselves done
     * or failed in it, for {@code tags reconcile --follow}), then queues its items. A repeated
     * message finds the item and queues nothing.
     */
    private String fanOut(String runId, List<AccountRegion> scope) {
        Map<String, AttributeValue> status = Ledger.item(pk(runId), SWEEP);
        status.put("total", AttributeValue.fromN(Integer.toString(scope.size())));
        status.put("done", AttributeValue.fromN("0"));
        status.put("failed", AttributeValue.fromN("0"));
        status.put("createdAt", Ledger.s(clock.instant().toString()));
        if (!ledger.putIfAbsent(status)) {
            LOG.info("Reconcile {} exists: reconcile message acknowledged", runId);
            Metrics.duplicateSuppressed("reconcile", 1);
            return runId;
        }
        List<String> items = new ArrayList<>();
        for (AccountRegion target : scope) {
            items.add(JSON.createObjectNode()
                    .put("type", "reconcile-item")
                    .put("runId", runId)
                    .put("account", target.account())
                    .put("region", target.region())
                    .toString());
        }
        work.send(items);
        LOG.info("Reconcile {}: {} account-regions queued", runId, scope.size());
        return runId;
    }

    /** One account × region of a sweep; returns the audit events to publish. */
    public List<PutEventsRequest> runItem(String body, Map<?, ?> sqsAttributes) {
        JsonNode item = JsonBodies.object(body);
        String sweepId = item.path("runId").asText("");
        List<PutEventsRequest> events;
        try {
            events = reconcile(item);
        } catch (RuntimeException e) {
            // it goes to the DLQ now (refused, or still failing on its last receive): the sweep counts it failed
            if (e instanceof PermanentFailure
                    || TransientBackoff.receiveCount(sqsAttributes)
                            >= config.queues().maxReceiveCount()) count(sweepId, "failed");
            throw e;
        }
        count(sweepId, "done");
        return events;
    }

    /** Progress of the sweep for those who follow it (at least once: a redelivered item may count twice). */
    private void count(String sweepId, String attribute) {
        if (ID.matcher(sweepId).matches() && ledger.get(pk(sweepId), SWEEP).isPresent())
            ledger.increment(pk(sweepId), SWEEP, attribute, 1);
    }

    private List<PutEventsRequest> reconcile(JsonNode item) {
        String account = item.path("account").asText("");
        String region = item.path("region").asText("");
        if (!account.matches("\\d{12}"))
            throw new PermanentFailure("account: '" + account + "' is not a 12-digit account id");
        if (!config.regions().contains(region))
            throw new PermanentFailure("region: '" + region + "' is not a configured region");
        if (!organization.isActiveMember(account))
            throw new PermanentFailure("account: " + account + " is not an active account of the organization");
        AccountRegion target = new AccountRegion(account, region);
        settleWindowParameters(target, item.path("runId").asText("unknown"));
        TagWriter.Plan plan;
        try {
            plan = writer.planSweep(target, "sweep:" + item.path("runId").asText("unknown"));
        } catch (RuntimeException e) {
            if (AwsErrors.code(e)
                    .filter(c -> c.equals("OptInRequired")
                            || c.equals("AuthFailure")
                            || c.equals("UnrecognizedClientException"))
                    .isPresent()) {
                LOG.info("Reconcile {}: region not enabled for this account, skipped", target);
                return List.of();
            }
            throw AwsErrors.classify(e, "account " + account + " region " + region);
        }
        // changes a process recorded and then died before auditing are settled on the tags as found
        List<TagOutcome> settled = audit.settleAbandoned(target, plan.outcomes());
        String auditId = audit.intend(target, plan.changes());
        try {
            writer.write(target, plan);
        } catch (RuntimeException e) {
            throw AwsErrors.classify(e, "account " + account + " region " + region);
        }
        List<TagOutcome> outcomes = plan.outcomes();
        audit.record(target, auditId, outcomes);
        LOG.info(
                "Reconcile {}: {}{}",
                target,
                counts(outcomes),
                settled.isEmpty() ? "" : "; " + settled.size() + " earlier changes found applied and audited");
        List<PutEventsRequest> events = new ArrayList<>(audit.events(target, settled));
        events.addAll(audit.events(target, outcomes));
        return events;
    }

    /**
     * Window parameters the ledger missed are checked again (through the self-service queue). A
     * failure here (e.g. a member role without ssm:GetParametersByPath yet) never stops the tagging.
     */
    private void settleWindowParameters(AccountRegion target, String sweepId) {
        try {
            List<String> settled = windowParameters.settle(target, sweepId);
            if (!settled.isEmpty())
                LOG.info(
                        "Reconcile {}: window parameters settled (checked again): {}",
                        target,
                        String.join(", ", settled));
        } catch (RuntimeException e) {
            LOG.warn(
                    "Reconcile {}: window parameters not listed: {}",
                    target,
                    PermanentFailure.oneLine(String.valueOf(e.getMessage())));
        }
    }

    /** What a sweep would change, computed with the same code and written nowhere (--dry-run). */
    public List<TagOutcome> plan(AccountRegion target) {
        return writer.planSweep(target, "dry-run").outcomes();
    }

    public static String counts(List<TagOutcome> outcomes) {
        TreeMap<TagOutcome.Result, Integer> counts = new TreeMap<>();
        outcomes.forEach(o -> counts.merge(o.result(), 1, Integer::sum));
        return counts.toString();
    }
}
