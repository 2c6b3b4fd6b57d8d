package io.patchpilot.patching;

import io.patchpilot.errors.DeadLetters;
import io.patchpilot.ledger.Ledger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * A patch step that gave up (still failing on its last allowed receive) and its resumption. Giving
 * up ends the account-region Failed, marked with the state it left ({@code Discovering} or
 * {@code Sent}) and a token that its dead letter carries as {@link DeadLetters#GIVE_UP_ATTRIBUTE}.
 * When {@code dlq redrive work} sends that letter back, the step reopens the account-region to the
 * state it left, in one transaction with its run (one fewer target done, the run Running again):
 * a Sent one follows the commands it had sent, a Discovering one looks up what an earlier delivery
 * sent before sending the rest, so no instance gets a second command. Only the letter whose token
 * matches reopens it: a stray copy of the step, or the same letter sent back twice, does not.
 */
final class StepGiveUp {
    static final String FROM = "gaveUpFrom";
    static final String TOKEN = "gaveUpToken";
    static final String FAILED = "Failed";
    private static final List<String> RESUMABLE = List.of("Discovering", "Sent");

    private StepGiveUp() {}

    /** What the Failed write of a step that gives up in {@code state} records besides its outcome. */
    static Map<String, AttributeValue> marks(String state, String token) {
        if (!RESUMABLE.contains(state)) throw new IllegalArgumentException("a step cannot give up in state " + state);
        return Map.of(FROM, Ledger.s(state), TOKEN, Ledger.s(token));
    }

    /** The give-up token a redriven step message carries, or "" (a message that never was a dead letter). */
    static String token(Object messageAttributes) {
        if (messageAttributes instanceof Map<?, ?> m
                && m.get(DeadLetters.GIVE_UP_ATTRIBUTE) instanceof MessageAttributeValue v
                && v.stringValue() != null) return v.stringValue();
        return "";
    }

    /**
     * The state to reopen the account-region to when a message with {@code token} arrives for it;
     * empty unless it is Failed by the give-up that this very dead letter records.
     */
    static Optional<String> reopenTo(Map<String, AttributeValue> target, String token) {
        if (token.isEmpty() || !FAILED.equals(Ledger.text(target, "state"))) return Optional.empty();
        if (!token.equals(Ledger.text(target, TOKEN))) return Optional.empty();
        String from = Ledger.text(target, FROM);
        return RESUMABLE.contains(from) ? Optional.of(from) : Optional.empty();
    }

    /**
     * The account-region's change: back to its earlier state, the outcome and marks of the give-up
     * gone, and no lease held (the delivery that gave up is over).
     */
    static Ledger.Change reopenTarget(String state, Instant now) {
        return new Ledger.Change(
                Map.of("state", Ledger.s(state), "reopenedAt", Ledger.s(now.toString())),
                List.of("reason", "finishedAt", FROM, TOKEN, "leaseUntil", "leaseHolder"),
                Map.of());
    }

    /**
     * The run's change: one target fewer done, Running (again, if it had ended: it completes once
     * more when the target ends, and that completion says it is a re-completion), its end removed.
     */
    static Ledger.Change reopenRun() {
        return new Ledger.Change(
                Map.of("status", Ledger.s("Running")),
                List.of("finishedAt"),
                Map.of("targetsDone", -1L, "reopens", 1L));
    }

    /** The condition of the reopening write: still Failed by this give-up. */
    static final String CONDITION = "#st = :failed AND #tok = :tok";

    static Map<String, String> conditionNames() {
        return Map.of("#st", "state", "#tok", TOKEN);
    }

    static Map<String, AttributeValue> conditionValues(String token) {
        return Map.of(":failed", Ledger.s(FAILED), ":tok", Ledger.s(token));
    }
}
