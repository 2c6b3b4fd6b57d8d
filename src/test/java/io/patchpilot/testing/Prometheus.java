package io.patchpilot.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Reads a running service's {@code /metrics} (Prometheus text) into name{labels} → value. */
public final class Prometheus {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private Prometheus() {}

    public static Map<String, Double> scrape(int port) {
        try {
            String text = HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            Map<String, Double> out = new HashMap<>();
            text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).forEach(l -> {
                int space = l.lastIndexOf(' ');
                out.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
            });
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The sum of every series of a metric (all label values). */
    public static long sum(Map<String, Double> metrics, String name) {
        return Math.round(metrics.entrySet().stream()
                .filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                .mapToDouble(Map.Entry::getValue)
                .sum());
    }
}
