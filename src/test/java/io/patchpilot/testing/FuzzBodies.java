package io.patchpilot.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.patchpilot.errors.PermanentFailure;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Generated message bodies for fuzzing a parser: valid examples edited one to three times (a field
 * removed, set to a value of another type or another example's value, an unknown field added, at
 * any depth), truncated or garbled examples, and plain noise. Drawn from jqwik's seeded random
 * source, so a run with the same seed gives the same bodies.
 */
public final class FuzzBodies {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final List<String> examples;
    private final List<String> fields;
    private final List<JsonNode> leaves = new ArrayList<>();

    /**
     * @param examples valid bodies of the parser (JSON objects)
     * @param fields the field names the parser knows (also nested ones), used as edited and added names
     */
    public FuzzBodies(List<String> examples, List<String> fields) {
        this.examples = List.copyOf(examples);
        this.fields = List.copyOf(fields);
        for (String e : examples) collectLeaves(read(e));
    }

    public Arbitrary<String> arbitrary() {
        return Arbitraries.randomValue(this::body);
    }

    /** The field names a rejection may name for this body: the known ones, its own, and "body". */
    public Set<String> namesIn(String body) {
        Set<String> names = new LinkedHashSet<>(fields);
        names.add("body");
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null) collectNames(n, names);
        } catch (JsonProcessingException | RuntimeException notJson) {
            // noise names no field of its own
        }
        return names;
    }

    /** A rejection's reason is one non-blank line that names a field of the body or of the parser. */
    public String checkReason(String body, String reason) {
        if (reason == null || reason.isBlank()) throw new AssertionError("a blank reason for " + body);
        if (reason.contains("\n") || reason.contains("\r"))
            throw new AssertionError("a reason of several lines for " + body + ": " + reason);
        for (String name : namesIn(body)) {
            if (reason.contains(PermanentFailure.oneLine(name))) return reason;
        }
        throw new AssertionError("the reason names no field: '" + reason + "' for " + body);
    }

    String body(Random r) {
        String example = examples.get(r.nextInt(examples.size()));
        int kind = r.nextInt(100);
        if (kind < 6) return noise(r);
        if (kind < 12) return garbled(r, example);
        JsonNode tree = read(example);
        int edits = 1 + r.nextInt(3);
        for (int i = 0; i < edits; i++) edit(r, tree);
        if (kind < 15) return NODES.arrayNode().add(tree).toString();
        if (kind < 17) return new TextNode(tree.toString()).toString();
        return tree.toString();
    }

    private void edit(Random r, JsonNode root) {
        List<ObjectNode> objects = new ArrayList<>();
        collectObjects(root, objects);
        ObjectNode o = objects.get(r.nextInt(objects.size()));
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        switch (r.nextInt(5)) {
            case 0 -> {
                if (!names.isEmpty()) o.remove(names.get(r.nextInt(names.size())));
            }
            case 1, 2 -> {
                if (!names.isEmpty()) o.set(names.get(r.nextInt(names.size())), value(r));
            }
            case 3 -> o.set(fields.get(r.nextInt(fields.size())), value(r));
            default -> o.set(text(r, 12), value(r));
        }
    }

    private JsonNode value(Random r) {
        return switch (r.nextInt(14)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(r.nextBoolean());
            case 2 -> NODES.numberNode(new long[] {0, 1, -1, 7, 13, 100, 101, 1L << 31, Long.MAX_VALUE}[r.nextInt(9)]);
            case 3 -> NODES.numberNode(r.nextDouble() * 200 - 50);
            case 4 -> NODES.textNode(text(r, 24));
            case 5 -> NODES.textNode("");
            case 6 -> NODES.arrayNode();
            case 7 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) a.add(leaf(r));
                yield a;
            }
            case 8 -> NODES.objectNode();
            case 9 -> NODES.objectNode().set(fields.get(r.nextInt(fields.size())), leaf(r));
            case 10 -> {
                JsonNode l = leaf(r);
                yield l.isTextual() ? NODES.textNode(caseChanged(r, l.asText())) : l;
            }
            default -> leaf(r);
        };
    }

    private JsonNode leaf(Random r) {
        return leaves.isEmpty() ? NODES.textNode(text(r, 8)) : leaves.get(r.nextInt(leaves.size()));
    }

    private static String caseChanged(Random r, String s) {
        return switch (r.nextInt(3)) {
            case 0 -> s.toUpperCase(Locale.ROOT);
            case 1 -> s.toLowerCase(Locale.ROOT);
            default -> " " + s + " ";
        };
    }

    private static String noise(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> "";
            case 1 -> "   ";
            case 2 -> "null";
            case 3 -> Long.toString(r.nextLong());
            case 4 -> "{" + text(r, 30);
            default -> text(r, 60);
        };
    }

    private static String garbled(Random r, String example) {
        StringBuilder s = new StringBuilder(example);
        switch (r.nextInt(3)) {
            case 0 -> s.setLength(r.nextInt(s.length()));
            case 1 -> s.insert(r.nextInt(s.length() + 1), "\"{[,:\\\u0000\ud83d".charAt(r.nextInt(7)));
            default -> s.deleteCharAt(r.nextInt(s.length()));
        }
        return s.toString();
    }

    /** Letters, digits, punctuation, control and non-ASCII characters (a lone surrogate included). */
    private static String text(Random r, int max) {
        String alphabet = "abcXYZ019 -_.:/%#@\"\\{}[],;\n\t\u00e9\u4e2d\ud83d\ude00\ud800";
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(max + 1); i > 0; i--) s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return s.toString();
    }

    private void collectLeaves(JsonNode n) {
        if (n.isContainerNode()) n.forEach(this::collectLeaves);
        else leaves.add(n);
    }

    private static void collectObjects(JsonNode n, List<ObjectNode> out) {
        if (n instanceof ObjectNode o) out.add(o);
        if (n.isContainerNode()) n.forEach(c -> collectObjects(c, out));
    }

    private static void collectNames(JsonNode n, Set<String> out) {
        if (n.isObject()) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) out.add(it.next());
        }
        if (n.isContainerNode()) n.forEach(c -> collectNames(c, out));
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
