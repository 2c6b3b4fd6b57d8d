package io.patchpilot.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads the CloudFormation templates of {@code deploy/cloudformation} with Jackson's YAML parser.
 * Jackson drops the short-form tags, so {@code !Ref X} reads as {@code "X"}, {@code !GetAtt R.Arn}
 * as {@code "R.Arn"}, {@code !Sub "${P}-dlq"} as {@code "${P}-dlq"} and {@code !If [c, a, b]} as
 * the list {@code [c, a, b]}; the helpers below rely on exactly that (TemplatesTest checks it).
 */
final class Templates {
    static final Path DIR = Path.of("deploy", "cloudformation");
    static final Path HUB = DIR.resolve("hub.yaml");
    static final Path MEMBER = DIR.resolve("member-stackset.yaml");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Templates() {}

    static List<Path> all() {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.filter(p -> p.toString().matches(".*\\.(ya?ml|json|template)$"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path template) {
        try {
            return YAML.readTree(template.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(template + ": " + e.getMessage(), e);
        }
    }

    static JsonNode parse(String yaml) {
        try {
            return YAML.readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Logical id → resource, of the given type. */
    static Map<String, JsonNode> resources(JsonNode template, String type) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        template.path("Resources").properties().forEach(e -> {
            if (e.getValue().path("Type").asText().equals(type)) out.put(e.getKey(), e.getValue());
        });
        return out;
    }

    static String parameterDefault(JsonNode template, String parameter) {
        JsonNode p = template.path("Parameters").path(parameter);
        if (p.isMissingNode()) throw new AssertionError("no parameter " + parameter);
        return p.path("Default").asText(null);
    }

    /** The logical id a {@code !GetAtt Id.Attr} (read as "Id.Attr") refers to. */
    static String getAttTarget(JsonNode node) {
        String s = node.asText("");
        return s.contains(".") ? s.substring(0, s.indexOf('.')) : s;
    }

    /** Every policy statement below {@code node} (any object with an Effect), branches of !If included. */
    static void statements(JsonNode node, Consumer<JsonNode> sink) {
        if (node == null) return;
        if (node.isObject()) {
            if (node.has("Effect") && (node.has("Action") || node.has("NotAction"))) {
                sink.accept(node);
                return;
            }
            node.elements().forEachRemaining(n -> statements(n, sink));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(n -> statements(n, sink));
        }
    }

    /** The Allow statements of a role: its inline Policies plus AWS::IAM::Policy/ManagedPolicy resources attached to it. */
    static List<JsonNode> allowStatementsOfRole(JsonNode template, String roleId) {
        JsonNode role = template.path("Resources").path(roleId);
        if (!role.path("Type").asText().equals("AWS::IAM::Role"))
            throw new AssertionError(roleId + " is not an AWS::IAM::Role");
        List<JsonNode> out = new ArrayList<>();
        Consumer<JsonNode> allowOnly = s -> {
            if (s.path("Effect").asText().equals("Allow")) out.add(s);
        };
        statements(role.path("Properties").path("Policies"), allowOnly);
        for (String type : List.of("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")) {
            resources(template, type).values().forEach(p -> {
                for (JsonNode r : p.path("Properties").path("Roles")) {
                    if (r.asText().equals(roleId))
                        statements(p.path("Properties").path("PolicyDocument"), allowOnly);
                }
            });
        }
        return out;
    }

    static List<String> actions(JsonNode statement) {
        List<String> out = new ArrayList<>();
        for (String key : List.of("Action", "NotAction")) {
            JsonNode a = statement.path(key);
            if (a.isTextual()) out.add(a.asText());
            a.elements().forEachRemaining(n -> out.add(n.asText()));
        }
        return out;
    }

    static Properties properties(String file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("config", file))) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
