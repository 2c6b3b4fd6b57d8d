package io.patchpilot.ami;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.ami.AmiPipeline.Kind;
import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.errors.TransientBackoff;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;

/**
 * {@code {"type":"ami-step","runId","account","region","group"}}: performs the step the group's
 * build is at (the ledger says which, not the message), records the outcome with a conditional
 * write on that step, and queues the continuation — at once after an action, after a delay while
 * waiting. A duplicate or late message finds the step taken and does nothing more.
 *
 * <p>Failures: a permanent one (or a transient one still failing on the message's last delivery
 * before the DLQ) sends the build into cleanup with the reason; a transient one fails the step so
 * SQS delivers it again. A wait beyond its limit is a failure too. The last step of a build calls
 * the run's {@link TargetDone} (patching counts the account-region's work done).
 */
public final class AmiRefreshStep {
    private static final Logger LOG = LoggerFactory.getLogger(AmiRefreshStep.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String TYPE = "ami-step";

    /** Queues a work message, after a delay in seconds. */
    @FunctionalInterface
    public interface Continuation {
        void send(String body, int delaySeconds);
    }

    /** Tells the run that one of its pieces of work ended; returns the events that announces (the run's end). */
    @FunctionalInterface
    public interface TargetDone {
        List<PutEventsRequest> targetDone(String runId);
    }

    private final Ledger ledger;
    private final AmiActions actions;
    private final AmiSettings settings;
    private final TargetDone runs;
    private final Continuation next;
    private final Clock clock;

    public AmiRefreshStep(
            Ledger ledger, AwsClients aws, AmiSettings settings, TargetDone runs, Continuation next, Clock clock) {
        this.ledger = ledger;
        this.actions = new AmiActions(aws, settings);
        this.settings = settings;
        this.runs = runs;
        this.next = next;
        this.clock = clock;
    }

    public static String message(String runId, AccountRegion target, String group) {
        return JSON.createObjectNode()
                .put("type", TYPE)
                .put("runId", runId)
                .put("account", target.account())
                .put("region", target.region())
                .put("group", group)
                .toString();
    }

    /** The build of a group in a run, if the run selected it. */
    public Optional<AmiBuild> build(String runId, AccountRegion target, String group) {
        return ledger.get(RunKeys.pk(runId), AmiBuild.sk(target, group)).map(i -> new AmiBuild(runId, i));
    }

    public List<PutEventsRequest> step(String body, Map<?, ?> sqsAttributes) {
        JsonNode m = JsonBodies.object(body);
        String runId = m.path("runId").asText();
        AccountRegion target =
                new AccountRegion(m.path("account").asText(), m.path("region").asText());
        String group = m.path("group").asText();
        AmiBuild b = build(runId, target, group)
                .orElseThrow(() ->
                        new PermanentFailure("group: run " + runId + " has no AMI build of " + target + " " + group));
        Step s = b.step();
        if (s.ended()) {
            LOG.info(
                    "Run {} {} {}: AMI refresh already ended ({}); step acknowledged", runId, target, group, s.label());
            return List.of();
        }
        Outcome o;
        try {
            o = actions.perform(s, b);
        } catch (RuntimeException e) {
            boolean permanent = AmiErrors.permanent(e);
            int receives = TransientBackoff.receiveCount(sqsAttributes);
            if (!permanent && receives < settings.maxReceiveCount()) throw e;
            o = new Outcome.Failed(AmiErrors.describe(e)
                    + (permanent ? "" : " (still failing on delivery " + receives + ", the last before the DLQ)"));
        }
        return record(b, s, o);
    }

    private List<PutEventsRequest> record(AmiBuild b, Step s, Outcome o) {
        if (o instanceof Outcome.Done d)
            return moveTo(b, s, AmiPipeline.next(s, b.refresh()), d.facts(), AmiSteps.DONE, "");
        if (o instanceof Outcome.Again a) return moveTo(b, s, s, a.facts(), AmiSteps.DONE, "");
        if (o instanceof Outcome.Failed f) return fail(b, s, f.reason(), false);
        Outcome.Wait w = (Outcome.Wait) o;
        Duration waited = Duration.between(b.stepAt(), clock.instant());
        Duration limit = settings.waitLimit(s);
        if (waited.compareTo(limit) > 0) {
            return fail(b, s, "gave up after " + limit.toMinutes() + " min " + s.description() + ": " + w.note(), true);
        }
        if (!w.note().equals(b.get(AmiBuild.NOTE))) {
            Map<String, AttributeValue> values = new HashMap<>();
            values.put(AmiBuild.NOTE, Ledger.s(w.note()));
            w.facts().forEach((k, v) -> values.put(k, Ledger.s(v)));
            ledger.setIf(
                    b.pk(),
                    b.sk(),
                    values,
                    "#st = :step",
                    Map.of("#st", "state"),
                    Map.of(":step", Ledger.s(s.label())));
        }
        next.send(
                message(b.runId(), b.target(), b.group()),
                AmiPipeline.pollDelaySeconds(settings.pollSeconds(), waited));
        return List.of();
    }

    /**
     * A failed build goes to cleanup with its reason; a failing cleanup step is recorded and the
     * cleanup goes on; after the new version is live, a failure is a warning.
     */
    private List<PutEventsRequest> fail(AmiBuild b, Step s, String reason, boolean timedOut) {
        Map<String, String> facts = new HashMap<>();
        Step to;
        String result = AmiSteps.FAILED;
        if (s.kind() == Kind.CLEANUP) {
            String earlier = b.get(AmiBuild.CLEANUP);
            facts.put(AmiBuild.CLEANUP, (earlier.isEmpty() ? "" : earlier + "; ") + s.label() + ": " + reason);
            to = AmiPipeline.afterFailure(s, b.refresh());
        } else if (AmiPipeline.afterSuccess(s)) {
            facts.put(AmiBuild.WARNING, s.label() + ": " + reason);
            result = AmiSteps.WARNING;
            to = AmiPipeline.afterFailure(s, b.refresh());
        } else {
            facts.put(AmiBuild.REASON, reason);
            facts.put(AmiBuild.FAILED_STEP, s.label());
            to = timedOut ? AmiPipeline.afterTimeout(s, b.refresh()) : AmiPipeline.afterFailure(s, b.refresh());
        }
        LOG.warn("Run {} {} {}: {} failed: {}", b.runId(), b.target(), b.group(), s.label(), reason);
        return moveTo(b, s, to, facts, result, reason);
    }

    /**
     * Records the move from one step to the next with the facts learned; a finished step joins the
     * build's history with its times and result (the write is conditional on the step, so two
     * deliveries never both append).
     */
    private List<PutEventsRequest> moveTo(
            AmiBuild b, Step from, Step to, Map<String, String> facts, String result, String reason) {
        Instant now = clock.instant();
        Map<String, AttributeValue> values = new HashMap<>();
        facts.forEach((k, v) -> values.put(k, Ledger.s(v)));
        values.put("state", Ledger.s(to.label()));
        if (to != from) {
            values.put(AmiBuild.STEP_AT, Ledger.s(now.toString()));
            values.put(AmiBuild.NOTE, Ledger.s(""));
            values.put(
                    AmiBuild.HISTORY,
                    Ledger.s(AmiSteps.append(b.get(AmiBuild.HISTORY), from, b.stepAt(), now, result, reason)));
        }
        if (to.ended()) values.put(AmiBuild.FINISHED, Ledger.s(now.toString()));
        boolean won = ledger.setIf(
                b.pk(), b.sk(), values, "#st = :from", Map.of("#st", "state"), Map.of(":from", Ledger.s(from.label())));
        if (!won) return List.of(); // another delivery of this step got there first
        if (to != from) LOG.info("Run {} {} {}: {} -> {}", b.runId(), b.target(), b.group(), from.label(), to.label());
        if (to.ended()) return runs.targetDone(b.runId());
        next.send(message(b.runId(), b.target(), b.group()), 0);
        return List.of();
    }
}
