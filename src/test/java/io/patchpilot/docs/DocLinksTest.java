package io.patchpilot.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No file of the repository names a document that is not in it: every relative link and every
 * mention of a {@code .md} file or of a repository path in backticks in the Markdown files, and every
 * {@code .md} path named in the code, routes, configuration and deployment files (--help texts and
 * comments), resolves inside the repository, and a link's {@code #anchor} names a heading of its page.
 */
class DocLinksTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();
    /** Folders that are not the project's files: build output, VCS, tools' caches, local mode's outbox. */
    private static final Set<String> SKIPPED_DIRS =
            Set.of("target", ".git", ".mvn", "node_modules", "__pycache__", ".pytest_cache", "outbox", ".venv");
    /** Where code, --help texts and comments may name a document. */
    private static final List<String> SOURCE_DIRS = List.of("src", "routes", "config", "deploy", ".ci");
    /** Files at the top that may name one too. */
    private static final List<String> SOURCE_FILES = List.of("patchpilot", "pom.xml", ".ci/run");

    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern DOC_MENTION =
            Pattern.compile("(?<![\\w/.:-])((?:\\.{1,2}/)*(?:[\\w.-]+/)*[\\w.-]+\\.md)(#[\\w-]+)?(?![\\w/])");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`\\n]+)`");
    /** A backticked repository path: starts at a top-level folder of this project, names no placeholder. */
    private static final Pattern REPO_PATH =
            Pattern.compile("(?:src|routes|config|deploy|docs|reports|\\.ci)/[\\w./-]*");

    @Test
    void every_link_and_document_mention_resolves() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path md : files(ROOT, p -> p.toString().endsWith(".md"))) broken.addAll(checkMarkdown(md));
        for (String dir : SOURCE_DIRS) {
            for (Path f : files(ROOT.resolve(dir), DocLinksTest::isText)) broken.addAll(checkSource(f));
        }
        for (String name : SOURCE_FILES) {
            Path f = ROOT.resolve(name);
            if (Files.isRegularFile(f)) broken.addAll(checkSource(f));
        }
        assertEquals(List.of(), broken, "links or document mentions that lead nowhere (file:line: target)");
    }

    @Test
    void a_broken_link_is_found() {
        Path readme = ROOT.resolve("README.md");
        List<String> broken = new ArrayList<>();
        String md = ".md"; // split, so that this file itself names no missing document
        check(readme, 1, "[x](docs/no-such-page" + md + ")", true, broken);
        check(readme, 2, "see `docs/contract" + md + "#no-such-heading`", true, broken);
        check(readme, 3, "as CONTRACT" + md + " says", true, broken);
        check(readme, 4, "[ok](docs/contract.md#queues) and `deploy/README.md`", true, broken);
        assertEquals(3, broken.size(), String.join("\n", broken));
        assertTrue(broken.get(0).contains("docs/no-such-page" + md), broken.get(0));
    }

    @Test
    void a_document_named_in_code_that_is_missing_is_found() throws IOException {
        Path probe = ROOT.resolve("target/doc-links-probe/Probe.java");
        Files.createDirectories(probe.getParent());
        String md = ".md";
        Files.writeString(
                probe,
                "/** See docs/contract" + md + "#queues and deploy/README" + md + ". */\n" + "// and docs/gone" + md
                        + "\n");
        List<String> broken = checkSource(probe);
        assertEquals(List.of("target/doc-links-probe/Probe.java:2: docs/gone" + md), broken);
    }

    @Test
    void slugs_are_githubs() {
        assertEquals("running-a-window-now", slug("Running a window now"));
        assertEquals("tags-docscontractmd", slug("Tags (docs/contract.md)"));
        assertEquals("latest---only-all-run", slug("Latest `--only all` run"));
        assertEquals("patchpilot-window-run", slug("patchpilot window run"));
    }

    private static List<String> checkMarkdown(Path md) throws IOException {
        List<String> broken = new ArrayList<>();
        boolean fenced = false;
        int n = 0;
        for (String line : Files.readAllLines(md)) {
            n++;
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            check(md, n, line, !fenced, broken);
        }
        return broken;
    }

    private static List<String> checkSource(Path file) throws IOException {
        List<String> broken = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file)) {
            n++;
            Matcher m = DOC_MENTION.matcher(line);
            while (m.find()) resolve(file, n, m.group(1), m.group(2), false, broken);
        }
        return broken;
    }

    /** One line: its links (Markdown only), its .md mentions and, in Markdown prose, its backticked paths. */
    private static void check(Path file, int n, String line, boolean prose, List<String> broken) {
        String rest = line;
        if (prose) {
            Matcher link = LINK.matcher(line);
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("^[a-z][a-z0-9+.-]*:.*")) continue; // http:, https:, mailto:
                int hash = target.indexOf('#');
                String path = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash);
                if (path.isEmpty()) checkAnchor(file, n, file, anchor, target, broken);
                else resolve(file, n, path, anchor, true, broken);
            }
            Matcher code = CODE_SPAN.matcher(LINK.matcher(line).replaceAll("]"));
            StringBuilder kept = new StringBuilder();
            while (code.find()) {
                String span = code.group(1).strip();
                boolean path = REPO_PATH.matcher(span).matches() && !span.matches(".*[*<>{}…=].*");
                if (path) resolve(file, n, span, null, false, broken);
                code.appendReplacement(kept, path ? "" : Matcher.quoteReplacement(code.group()));
            }
            code.appendTail(kept);
            rest = kept.toString();
        }
        Matcher m = DOC_MENTION.matcher(rest);
        while (m.find()) resolve(file, n, m.group(1), m.group(2), false, broken);
    }

    /** A path is relative to the naming file; a mention (not a link) may also be relative to the repository. */
    private static void resolve(Path file, int n, String path, String anchor, boolean link, List<String> broken) {
        Path fromFile = file.getParent().resolve(path).normalize();
        Path fromRoot = ROOT.resolve(path).normalize();
        Path target = Files.exists(fromFile) || link ? fromFile : fromRoot;
        String shown = path + (anchor == null ? "" : anchor);
        if (!target.startsWith(ROOT) || !Files.exists(target)) {
            broken.add(ROOT.relativize(file) + ":" + n + ": " + shown);
            return;
        }
        if (anchor != null && target.toString().endsWith(".md")) checkAnchor(file, n, target, anchor, shown, broken);
    }

    private static final Map<Path, Set<String>> ANCHORS = new HashMap<>();

    private static void checkAnchor(Path file, int n, Path md, String anchor, String shown, List<String> broken) {
        Set<String> anchors = ANCHORS.computeIfAbsent(md, DocLinksTest::anchorsOf);
        if (!anchors.contains(anchor.substring(1))) broken.add(ROOT.relativize(file) + ":" + n + ": " + shown);
    }

    /** GitHub's heading ids: the slug, and slug-1, slug-2 … for repeats. */
    private static Set<String> anchorsOf(Path md) {
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        try {
            for (String line : Files.readAllLines(md)) {
                if (line.strip().startsWith("```")) fenced = !fenced;
                if (fenced || !line.matches("^#{1,6} .*")) continue;
                String slug = slug(line.replaceFirst("^#+ ", ""));
                int count = seen.merge(slug, 1, Integer::sum);
                anchors.add(count == 1 ? slug : slug + "-" + (count - 1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return anchors;
    }

    static String slug(String heading) {
        return heading.strip()
                .toLowerCase()
                .replaceAll("[^\\p{L}\\p{N} _-]", "")
                .replace(' ', '-');
    }

    private static boolean isText(Path p) {
        String name = p.getFileName().toString();
        return name.matches(".*\\.(java|ya?ml|properties|py|sh|sql|html|js|css|json|txt|ini|cfg|xml)$")
                || name.equals("Dockerfile");
    }

    private static List<Path> files(Path dir, Predicate<Path> wanted) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        for (Path part : ROOT.relativize(p)) if (SKIPPED_DIRS.contains(part.toString())) return false;
                        return true;
                    })
                    .filter(wanted)
                    .sorted()
                    .toList();
        }
    }
}
