package io.patchpilot.tagging;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides what became of tag changes recorded ahead of their write whose batch never recorded
 * its audit (the process died between the two). A change landed when the resource still shows
 * every tag it was to get and no audit record since names it (a redelivered event that rewrote
 * the tags audited that write itself). A change that did not land was redone, or will be, by the
 * redelivered event or the sweep, which audit their own writes.
 */
public final class UnconfirmedTagChanges {
    private UnconfirmedTagChanges() {}

    /** The key of a resource in {@code current} and {@code auditedSince}. */
    public static String key(ResourceKind kind, String resourceId) {
        return kind.name() + ":" + resourceId;
    }

    /**
     * The planned changes that landed.
     *
     * @param current      resource key → its tags as AWS shows them now (absent: gone, or not looked at)
     * @param auditedSince resource keys named by audit records written since the plan
     */
    public static List<TagOutcome> landed(
            List<TagOutcome> planned, Map<String, Map<String, String>> current, Set<String> auditedSince) {
        List<TagOutcome> out = new ArrayList<>();
        for (TagOutcome change : planned) {
            String key = key(change.request().kind(), change.request().resourceId());
            Map<String, String> now = current.get(key);
            if (now == null || auditedSince.contains(key) || change.written().isEmpty()) continue;
            if (change.written().entrySet().stream().allMatch(e -> e.getValue().equals(now.get(e.getKey()))))
                out.add(change);
        }
        return out;
    }

    /** Whether a write-ahead record made at {@code plannedAt} is old enough that no live batch still owns it. */
    public static boolean abandoned(Instant plannedAt, Instant now, Duration after) {
        return !plannedAt.plus(after).isAfter(now);
    }
}
