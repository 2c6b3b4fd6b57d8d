package io.patchpilot.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import java.util.List;
import java.util.Map;

/**
 * The message types each queue accepts; the routes dispatch on them ({@code direct:<queue>-<type>}).
 * A body that is not a JSON object with a known {@code type} is a permanent failure.
 */
public final class MessageTypes {
    private final Map<String, List<String>> accepted;

    public MessageTypes(Map<String, List<String>> acceptedByQueue) {
        this.accepted = Map.copyOf(acceptedByQueue);
    }

    /** The {@code type} of a message on the given queue kind ("schedules", "work"). */
    public String typeOf(String queueKind, String body) {
        List<String> types = accepted.getOrDefault(queueKind, List.of());
        JsonNode n = JsonBodies.object(body);
        JsonNode type = n.get("type");
        if (type == null || !type.isTextual())
            throw new PermanentFailure("type: missing; expected one of " + String.join(", ", types));
        if (!types.contains(type.asText())) {
            throw new PermanentFailure("type: '" + type.asText() + "' is not one of " + String.join(", ", types));
        }
        return type.asText();
    }
}
