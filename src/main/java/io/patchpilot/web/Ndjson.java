package io.patchpilot.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Newline-delimited JSON objects (the EC2 snapshots) as rows of text values. */
final class Ndjson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Ndjson() {}

    static List<Map<String, String>> rows(String ndjson) {
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : ndjson.split("\n")) {
            if (line.isBlank()) continue;
            try {
                JsonNode n = JSON.readTree(line);
                Map<String, String> row = new HashMap<>();
                n.properties()
                        .forEach(e -> row.put(
                                e.getKey(),
                                e.getValue().isNull() ? null : e.getValue().asText()));
                out.add(row);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("EC2 snapshot line is not JSON: " + e.getOriginalMessage());
            }
        }
        return out;
    }
}
