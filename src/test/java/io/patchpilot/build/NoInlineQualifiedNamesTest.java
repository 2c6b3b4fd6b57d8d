package io.patchpilot.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Class names are imported, not written out inline ({@code java.util.List},
 * {@code io.patchpilot.web.Metrics}): outside package and import lines, comments and string
 * literals, a qualified type name fails naming file:line. Allowed where two classes of one simple
 * name meet: the file imports a class of that simple name, or declares one.
 */
class NoInlineQualifiedNamesTest {
    /** A lowercase package path of two or more segments, then a capitalized class name. */
    private static final Pattern QUALIFIED =
            Pattern.compile("(?<![\\w.$])((?:[a-z][a-z0-9_]*\\.)+[a-z][a-z0-9_]*)\\.([A-Z][A-Za-z0-9_]*)");

    private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+([\\w.]+)\\.(\\w+)\\s*;");
    private static final Pattern DECLARATION = Pattern.compile("\\b(?:class|interface|enum|record)\\s+([A-Z]\\w*)");

    @Test
    void no_class_name_is_written_fully_qualified_where_an_import_does() throws IOException {
        List<String> found = new ArrayList<>();
        for (String root : List.of("src/main/java", "src/test/java")) {
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java"))
                        .sorted()
                        .toList()) {
                    String name = f.toString().replace('\\', '/');
                    found.addAll(qualifiedNames(name, Files.readString(f)));
                }
            }
        }
        assertEquals(
                List.of(),
                found,
                "import these classes instead (keep a qualified name only where two classes of one simple name meet)");
    }

    @Test
    void finds_qualified_names_in_code_and_not_in_comments_strings_or_imports() {
        String source = """
                package io.patchpilot.x;

                import java.util.List;
                import software.amazon.awssdk.services.ec2.model.Tag;

                /** Uses {@link java.util.Map}. */
                class Sample {
                    // java.util.Set in a comment
                    String s = "java.util.Set in a string";
                    String block = \"""
                            io.patchpilot.web.Metrics in a text block
                            \""";
                    java.util.Map<String, String> m = new java.util.HashMap<>();
                    List<software.amazon.awssdk.services.autoscaling.model.Tag> tags;
                    Object o = io.patchpilot.web.Metrics.class; /* java.util.Deque */ char c = '"';
                    String after = "x"; java.util.Optional<String> opt;
                    @org.junit.jupiter.api.Test void t() {}
                }
                """;
        List<String> found = qualifiedNames("Sample.java", source);
        assertEquals(
                List.of(
                        "Sample.java:13: java.util.Map",
                        "Sample.java:13: java.util.HashMap",
                        "Sample.java:15: io.patchpilot.web.Metrics",
                        "Sample.java:16: java.util.Optional",
                        "Sample.java:17: org.junit.jupiter.api.Test"),
                found);
    }

    @Test
    void a_declared_class_of_the_same_simple_name_allows_the_qualified_one() {
        String source = """
                package io.patchpilot.x;

                record Metrics(int n) {
                    io.patchpilot.web.Metrics shared;
                }
                """;
        assertTrue(qualifiedNames("Metrics.java", source).isEmpty());
    }

    /** Each qualified type name of one source file, as "file:line: name", less the allowed clashes. */
    static List<String> qualifiedNames(String file, String source) {
        String code = codeOnly(source);
        Set<String> taken = new HashSet<>();
        Matcher im = IMPORT.matcher(source);
        while (im.find()) taken.add(im.group(2));
        Matcher decl = DECLARATION.matcher(code);
        while (decl.find()) taken.add(decl.group(1));
        List<String> out = new ArrayList<>();
        String[] lines = code.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.startsWith("package ") || line.startsWith("import ")) continue;
            Matcher m = QUALIFIED.matcher(lines[i]);
            while (m.find()) {
                if (m.group(1).startsWith("this.") || m.group(1).startsWith("super.")) continue;
                if (taken.contains(m.group(2))) continue;
                out.add(file + ":" + (i + 1) + ": " + m.group(1) + "." + m.group(2));
            }
        }
        return out;
    }

    /** The source with comments, string and character literals and text blocks blanked (line breaks kept). */
    static String codeOnly(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            int end;
            if (s.startsWith("//", i)) {
                end = s.indexOf('\n', i);
                if (end < 0) end = n;
            } else if (s.startsWith("/*", i)) {
                end = s.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
            } else if (s.startsWith("\"\"\"", i)) {
                end = i + 3;
                while (end < n && !(s.startsWith("\"\"\"", end) && s.charAt(end - 1) != '\\')) end++;
                end = Math.min(n, end + 3);
            } else if (s.charAt(i) == '"' || s.charAt(i) == '\'') {
                char quote = s.charAt(i);
                end = i + 1;
                while (end < n && s.charAt(end) != quote && s.charAt(end) != '\n') {
                    if (s.charAt(end) == '\\') end++;
                    end++;
                }
                end = Math.min(n, end + 1);
            } else {
                out.append(s.charAt(i++));
                continue;
            }
            for (int k = i; k < end; k++) out.append(s.charAt(k) == '\n' ? '\n' : ' ');
            i = end;
        }
        return out.toString();
    }
}
