package io.patchpilot.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.camel.catalog.CamelCatalog;
import org.apache.camel.catalog.DefaultCamelCatalog;
import org.apache.camel.catalog.EndpointValidationResult;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Every endpoint URI in routes/*.camel.yaml (and in Java route builders under src/main, should one
 * appear) is valid by Camel's catalog: a misspelt option or a bad value fails the build here,
 * naming the file, the line and the option, instead of when the route first starts.
 */
class RouteEndpointsTest {
    /** YAML DSL keys whose value is an endpoint: a URI string or {uri, parameters}. */
    private static final Set<String> ENDPOINT_KEYS =
            Set.of("from", "to", "toD", "wireTap", "enrich", "pollEnrich", "poll", "deadLetterUri");
    /** The keys that consume (validated as a consumer); the rest produce. */
    private static final Set<String> CONSUMER_KEYS = Set.of("from", "poll", "pollEnrich");

    private static final Pattern JAVA_ENDPOINT =
            Pattern.compile("\\b(from|to|toD|toF|wireTap|enrich|pollEnrich)\\(\\s*\"([^\"]+)\"");
    /** A property placeholder with a default, {@code {{key:default}}}: the catalog reads its colon as a separator. */
    private static final Pattern PLACEHOLDER_WITH_DEFAULT = Pattern.compile("\\{\\{[^}:]+:([^}]*)}}");

    private static final Pattern SIMPLE = Pattern.compile("\\$\\{[^}]*}");

    private static final CamelCatalog CATALOG = new DefaultCamelCatalog(true);

    /** One endpoint found in a file: the URI with its parameters, where it is, and each parameter's line. */
    record Endpoint(String file, int line, String uri, boolean consumer, Map<String, Integer> parameterLines) {}

    @Test
    void every_route_endpoint_is_valid_by_the_camel_catalog() throws IOException {
        List<Endpoint> endpoints = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".camel.yaml"))
                    .sorted()
                    .toList()) {
                endpoints.addAll(yamlEndpoints("routes/" + f.getFileName(), Files.readString(f)));
            }
        }
        endpoints.addAll(javaRouteBuilderEndpoints(Path.of("src/main/java")));
        assertTrue(endpoints.size() > 30, "found only " + endpoints.size() + " endpoints: is the walk broken?");
        List<String> problems = new ArrayList<>();
        for (Endpoint e : endpoints) problems.addAll(problems(e));
        assertEquals(List.of(), problems, "invalid endpoint URIs (Camel catalog " + CATALOG.getCatalogVersion() + ")");
    }

    @Test
    void a_misspelt_option_is_named_with_its_file_and_line() {
        String yaml = """
                - route:
                    id: misspelt
                    from:
                      uri: "aws2-sqs:{{patchpilot.queue.work}}"
                      parameters:
                        maxMessagesPerPol: 1
                      steps:
                        - to: "aws2-sqs:q?deleteAfterRead=nope"
                        - toD: "direct:work-${header.patchpilot-type}"
                """;
        List<String> problems = new ArrayList<>();
        for (Endpoint e : yamlEndpoints("routes/bad.camel.yaml", yaml)) problems.addAll(problems(e));
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("routes/bad.camel.yaml:6: "), problems.get(0));
        assertTrue(problems.get(0).contains("maxMessagesPerPol"), problems.get(0));
        // a consumer option on a producer is refused too (deleteAfterRead is consumer-only)
        assertTrue(problems.get(1).startsWith("routes/bad.camel.yaml:8: "), problems.get(1));
        assertTrue(problems.get(1).contains("deleteAfterRead"), problems.get(1));
    }

    @Test
    void a_misspelt_option_in_a_uri_is_named() {
        List<String> problems =
                problems(new Endpoint("Routes.java", 12, "aws2-sqs:q?maxMessagesPerPol=1", true, Map.of()));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("Routes.java:12: "), problems.get(0));
        assertTrue(problems.get(0).contains("maxMessagesPerPol"), problems.get(0));
    }

    @Test
    void a_bad_value_and_an_unknown_component_are_named() {
        assertTrue(problems(new Endpoint("r.yaml", 3, "aws2-sqs:q?maxMessagesPerPoll=many", true, Map.of()))
                .get(0)
                .contains("maxMessagesPerPoll"));
        assertTrue(problems(new Endpoint("r.yaml", 4, "aws3-sqs:q", false, Map.of()))
                .get(0)
                .contains("aws3-sqs"));
    }

    @Test
    void placeholders_and_simple_expressions_are_allowed() {
        assertEquals(
                List.of(),
                problems(new Endpoint(
                        "r.yaml",
                        1,
                        "aws2-sqs:{{q}}?maxMessagesPerPoll={{n}}&concurrentConsumers={{c}}",
                        true,
                        Map.of())));
        assertEquals(List.of(), problems(new Endpoint("r.yaml", 1, "direct:work-${header.type}", false, Map.of())));
        assertEquals(
                List.of(),
                problems(new Endpoint("r.yaml", 1, "smtp://{{host:localhost}}:{{port:587}}", false, Map.of())));
    }

    /** The catalog's errors for one endpoint, each line "file:line: uri: error", on the option's own line if known. */
    static List<String> problems(Endpoint e) {
        // {{key}} the catalog takes as any value; {{key:default}} stands for its default, ${simple} for a word
        String uri = PLACEHOLDER_WITH_DEFAULT.matcher(e.uri()).replaceAll(m -> Matcher.quoteReplacement(m.group(1)));
        uri = SIMPLE.matcher(uri).replaceAll("x");
        EndpointValidationResult r = CATALOG.validateEndpointProperties(uri, true, e.consumer(), !e.consumer());
        if (r.getUnknownComponent() != null)
            return List.of(
                    e.file() + ":" + e.line() + ": " + e.uri() + ": unknown component " + r.getUnknownComponent());
        if (r.isSuccess()) return List.of();
        Set<String> options = new TreeSet<>();
        options.addAll(r.getUnknown() == null ? Set.of() : r.getUnknown());
        for (Map<?, ?> m : List.of(
                nonNull(r.getInvalidEnum()),
                nonNull(r.getInvalidBoolean()),
                nonNull(r.getInvalidInteger()),
                nonNull(r.getInvalidNumber()),
                nonNull(r.getInvalidDuration()),
                nonNull(r.getInvalidReference()),
                nonNull(r.getInvalidArray()),
                nonNull(r.getInvalidMap()))) m.keySet().forEach(k -> options.add(String.valueOf(k)));
        if (r.getNotConsumerOnly() != null) options.addAll(r.getNotConsumerOnly());
        if (r.getNotProducerOnly() != null) options.addAll(r.getNotProducerOnly());
        int line = options.stream()
                .map(o -> e.parameterLines().get(o))
                .filter(l -> l != null)
                .findFirst()
                .orElse(e.line());
        String summary = r.summaryErrorMessage(false, false, true).strip().replaceAll("\\s*\\n\\s*", "; ");
        return List.of(
                e.file() + ":" + line + ": " + e.uri() + ": " + (options.isEmpty() ? "" : options + " ") + summary);
    }

    private static Map<?, ?> nonNull(Map<?, ?> m) {
        return m == null ? Map.of() : m;
    }

    /** The endpoints of a YAML DSL file, found wherever an endpoint key stands in its tree. */
    static List<Endpoint> yamlEndpoints(String file, String text) {
        Node root = new Yaml(new LoaderOptions()).compose(new StringReader(text));
        List<Endpoint> out = new ArrayList<>();
        if (root != null) walk(file, root, out);
        return out;
    }

    private static void walk(String file, Node node, List<Endpoint> out) {
        if (node instanceof SequenceNode seq) {
            for (Node n : seq.getValue()) walk(file, n, out);
        } else if (node instanceof MappingNode map) {
            for (NodeTuple t : map.getValue()) {
                String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "";
                if (ENDPOINT_KEYS.contains(key)) {
                    Endpoint e = endpoint(file, CONSUMER_KEYS.contains(key), t.getValueNode());
                    if (e != null) out.add(e);
                }
                walk(file, t.getValueNode(), out);
            }
        }
    }

    /** {@code to: uri} or {@code to: {uri: ..., parameters: {...}}} as one URI with its parameters' lines. */
    private static Endpoint endpoint(String file, boolean consumer, Node value) {
        if (value instanceof ScalarNode s) return new Endpoint(file, line(s), s.getValue(), consumer, Map.of());
        if (!(value instanceof MappingNode m)) return null;
        ScalarNode uri = null;
        Map<String, Integer> lines = new LinkedHashMap<>();
        StringBuilder query = new StringBuilder();
        for (NodeTuple t : m.getValue()) {
            String key = ((ScalarNode) t.getKeyNode()).getValue();
            if (key.equals("uri") && t.getValueNode() instanceof ScalarNode u) uri = u;
            if (key.equals("parameters") && t.getValueNode() instanceof MappingNode params) {
                for (NodeTuple p : params.getValue()) {
                    String name = ((ScalarNode) p.getKeyNode()).getValue();
                    String v = ((ScalarNode) p.getValueNode()).getValue();
                    lines.put(name, line(p.getKeyNode()));
                    query.append(query.length() == 0 ? "" : "&")
                            .append(name)
                            .append('=')
                            .append(v);
                }
            }
        }
        if (uri == null) return null;
        String full = uri.getValue();
        if (query.length() > 0) full += (full.contains("?") ? "&" : "?") + query;
        return new Endpoint(file, line(uri), full, consumer, lines);
    }

    private static int line(Node n) {
        return n.getStartMark().getLine() + 1;
    }

    /** String-literal endpoints of Java route builders (classes that mention RouteBuilder) under a source root. */
    static List<Endpoint> javaRouteBuilderEndpoints(Path root) throws IOException {
        List<Endpoint> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f);
                if (!text.contains("RouteBuilder")) continue;
                String[] lines = text.split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    Matcher m = JAVA_ENDPOINT.matcher(lines[i]);
                    while (m.find()) {
                        boolean consumer =
                                m.group(1).equals("from") || m.group(1).equals("pollEnrich");
                        out.add(new Endpoint(f.toString(), i + 1, m.group(2), consumer, Map.of()));
                    }
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }
}
