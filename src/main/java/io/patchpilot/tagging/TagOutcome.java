package io.patchpilot.tagging;

import java.util.Map;

/** What happened to one resource. */
public record TagOutcome(
        TagRequest request, Result result, String detail, Map<String, String> before, Map<String, String> written) {
    public enum Result {
        TAGGED,
        ALREADY_RIGHT,
        EXEMPT,
        GONE
    }

    public TagOutcome {
        before = before == null ? Map.of() : Map.copyOf(before);
        written = written == null ? Map.of() : Map.copyOf(written);
    }
}
