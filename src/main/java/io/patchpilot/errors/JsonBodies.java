package io.patchpilot.errors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Message bodies as JSON objects; anything else is a permanent failure that says so. */
public final class JsonBodies {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonBodies() {}

    public static JsonNode object(String body) {
        if (body == null || body.isBlank()) throw new PermanentFailure("body is empty; expected a JSON object");
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new PermanentFailure("body is not JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw new PermanentFailure("body is not a JSON object");
        return n;
    }
}
