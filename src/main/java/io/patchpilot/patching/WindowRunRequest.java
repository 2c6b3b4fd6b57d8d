package io.patchpilot.patching;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * {@code {"type":"window-run","window":"Default_maintenance_window","account":"111122223333",
 * "skipGate":true,"reason":"…","requestedAt":"2026-12-07T15:30:00Z"}}: run a window now, outside
 * its schedule. {@code requestedAt} (default: when the service reads it) names the run, to the
 * minute, so the same request sent twice in a minute is one run.
 */
public record WindowRunRequest(String window, String account, boolean skipGate, String reason, Instant requestedAt) {
    private static final Set<String> FIELDS = Set.of("type", "window", "account", "skipGate", "reason", "requestedAt");
    /** How far ahead of the service's clock a sender's clock may be. */
    static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    /** Every problem at once, each naming its field. */
    public static WindowRunRequest parse(String body, Instant now) {
        JsonNode m = JsonBodies.object(body);
        List<String> problems = new ArrayList<>();
        for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) problems.add(f + ": unknown field");
        }
        String window = m.path("window").isTextual() ? m.get("window").asText() : "";
        if (!window.matches("[A-Za-z0-9]+_maintenance_window"))
            problems.add("window: '" + window + "' is not a window name such as Dev_maintenance_window");
        String account = null;
        if (m.hasNonNull("account")) {
            account = m.get("account").asText();
            if (!m.get("account").isTextual() || !account.matches("\\d{12}"))
                problems.add("account: '" + account + "' is not a 12-digit account id");
        }
        boolean skipGate = false;
        if (m.hasNonNull("skipGate")) {
            if (m.get("skipGate").isBoolean()) skipGate = m.get("skipGate").asBoolean();
            else problems.add("skipGate: '" + m.get("skipGate") + "' is not true or false");
        }
        String reason = m.path("reason").isTextual() ? m.get("reason").asText().strip() : "";
        if (m.hasNonNull("reason") && !m.get("reason").isTextual()) problems.add("reason: not a string");
        if (skipGate && reason.isEmpty())
            problems.add("reason: required with skipGate (why the rollout gate is skipped)");
        if (reason.length() > 500) problems.add("reason: longer than 500 characters");
        Instant at = now;
        if (m.hasNonNull("requestedAt")) {
            try {
                at = Instant.parse(m.get("requestedAt").asText());
                if (at.isAfter(now.plus(CLOCK_SKEW)))
                    problems.add("requestedAt: " + at + " is in the future (now " + now + ")");
            } catch (DateTimeParseException e) {
                problems.add("requestedAt: '" + m.get("requestedAt").asText() + "' is not an ISO-8601 instant");
            }
        }
        if (!problems.isEmpty()) throw new PermanentFailure(String.join("; ", problems));
        return new WindowRunRequest(window, account, skipGate, reason, at.truncatedTo(ChronoUnit.MINUTES));
    }
}
