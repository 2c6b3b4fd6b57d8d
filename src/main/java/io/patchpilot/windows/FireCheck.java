package io.patchpilot.windows;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * What a {@code window-fire} message stands for: an occurrence of the window to run, or why it
 * starts nothing. A window's EventBridge rule fires at candidate times that are not all
 * occurrences (hourly for a window in another time zone, daily for a Patch-Tuesday offset, weekly
 * for a two-weekly window): such a fire is expected and only logged. A fire at a time the rule
 * never fires at, or without a time when now is no occurrence, was sent by hand and is refused
 * with the reason.
 */
public record FireCheck(Optional<Instant> occurrence, Verdict verdict, String reason) {
    public enum Verdict {
        /** an occurrence: one run */
        RUN,
        /** a time the window's rule fires at to check, not an occurrence: logged at INFO */
        RULE_CANDIDATE,
        /** neither: dead-lettered with the reason */
        NOT_AN_OCCURRENCE
    }

    /**
     * @param carried the message's {@code time}, or null when it had none (taken as {@code now})
     */
    public static FireCheck of(MaintenanceWindow w, Instant carried, Instant now) {
        Instant time = carried == null ? now : carried;
        Optional<Instant> occurrence = WindowSchedule.occurrenceAt(w, time);
        if (occurrence.isPresent()) return new FireCheck(occurrence, Verdict.RUN, "");
        String next = WindowSchedule.nextOpening(w, time).map(Instant::toString).orElse("none");
        String what = w.name() + " (" + (w.organizationWide() ? "organization-wide" : "account " + w.account()) + ", "
                + WindowSchedule.describe(w) + ")";
        if (carried == null) {
            return new FireCheck(
                    Optional.empty(),
                    Verdict.NOT_AN_OCCURRENCE,
                    "time: absent, so taken as now (" + now + "), which is not an occurrence of " + what
                            + "; next occurrence " + next + "; to run it now: patchpilot window run " + w.name());
        }
        if (ruleFiresAt(w, carried)) {
            return new FireCheck(
                    Optional.empty(),
                    Verdict.RULE_CANDIDATE,
                    "time: " + carried + " is a time the rule " + WindowSchedule.ruleExpression(w)
                            + " fires at to check, not an occurrence of " + what + "; next occurrence " + next);
        }
        return new FireCheck(
                Optional.empty(),
                Verdict.NOT_AN_OCCURRENCE,
                "time: " + carried + " is not an occurrence of " + what + "; next occurrence " + next
                        + "; to run it now: patchpilot window run " + w.name());
    }

    /** Whether the window's rule fires at this minute. */
    static boolean ruleFiresAt(MaintenanceWindow w, Instant time) {
        return AwsCron.parse(WindowSchedule.ruleExpression(w))
                .next(time.minusSeconds(60).atZone(ZoneOffset.UTC))
                .map(t -> !t.toInstant().isAfter(time))
                .orElse(false);
    }
}
