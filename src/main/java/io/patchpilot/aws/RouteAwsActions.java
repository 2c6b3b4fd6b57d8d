package io.patchpilot.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The IAM actions the routes' AWS endpoints perform, read from the call sites themselves
 * ({@code routes/*.camel.yaml}): an {@code aws2-sqs} consumer receives and deletes, a producer
 * sends; {@code aws2-eventbridge} puts events. Together with {@link DeclaredAwsActions} this is
 * everything the hub's role needs.
 */
public final class RouteAwsActions {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<String, List<String>> CONSUMER =
            Map.of("aws2-sqs", List.of("sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"));
    private static final Map<String, List<String>> PRODUCER = Map.of(
            "aws2-sqs", List.of("sqs:GetQueueUrl", "sqs:SendMessage"),
            "aws2-eventbridge", List.of("events:PutEvents"),
            // Athena reads the tables and writes the result with the caller's own permissions
            "aws2-athena",
                    List.of(
                            "athena:StartQueryExecution",
                            "athena:GetQueryExecution",
                            "glue:GetDatabase",
                            "glue:GetTable",
                            "glue:GetPartitions",
                            "glue:BatchCreatePartition",
                            "s3:GetBucketLocation",
                            "s3:ListBucket",
                            "s3:GetObject",
                            "s3:PutObject"));

    private RouteAwsActions() {}

    /** Action → the route files that need it. */
    public static Map<String, Set<String>> scan(Path routesDir) {
        Map<String, Set<String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(routesDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".camel.yaml"))
                    .sorted()
                    .toList()) {
                walk(YAML.readTree(f.toFile()), f.getFileName().toString(), out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void walk(JsonNode node, String file, Map<String, Set<String>> out) {
        if (node == null) return;
        if (node.isObject()) {
            node.properties().forEach(e -> {
                JsonNode v = e.getValue();
                String uri = v.isTextual() ? v.asText() : v.path("uri").asText("");
                Map<String, List<String>> table = e.getKey().equals("from")
                        ? CONSUMER
                        : Set.of("to", "toD", "wireTap", "enrich").contains(e.getKey()) ? PRODUCER : null;
                if (table != null && !uri.isEmpty()) {
                    String component = uri.contains(":") ? uri.substring(0, uri.indexOf(':')) : uri;
                    table.getOrDefault(component, List.of())
                            .forEach(a ->
                                    out.computeIfAbsent(a, k -> new TreeSet<>()).add(file));
                }
                walk(v, file, out);
            });
        } else if (node.isArray()) {
            node.forEach(n -> walk(n, file, out));
        }
    }
}
