package io.patchpilot.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Client of the local AWS's control plane ({@code /_localaws/…}): what moto cannot know from AWS
 * calls (fixed account ids, missing patches, SSM agents), faults on demand, the call log and
 * scheduled-rule triggers. Used by local mode, tests and benchmarks; never by the service.
 */
public final class LocalAwsControl {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public LocalAwsControl(URI endpoint) {
        this.base = endpoint.resolve("/_localaws/");
    }

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    public JsonNode post(String path, Object body) {
        try {
            return send(HttpRequest.newBuilder(base.resolve(path))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + path + " request: " + e.getMessage(), e);
        }
    }

    public JsonNode delete(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).DELETE());
    }

    /** Total AWS calls of one operation (e.g. {@code ec2}, {@code CreateTags}) in the call log. */
    public long callCount(String service, String operation) {
        long n = 0;
        for (JsonNode c : get("calls").path("calls")) {
            if (c.path("service").asText().equalsIgnoreCase(service)
                    && c.path("operation").asText().equals(operation)) {
                n += c.path("count").asLong();
            }
        }
        return n;
    }

    private JsonNode send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r =
                    http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("local AWS control "
                        + r.request().uri().getPath() + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("local AWS control unreachable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
