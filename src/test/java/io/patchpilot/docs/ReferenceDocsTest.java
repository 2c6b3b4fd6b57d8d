package io.patchpilot.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docs/commands.md and docs/settings.md are what the code gives (ReferenceDocs). With
 * {@code -Ddocs.write=true} the test writes them instead of comparing.
 */
class ReferenceDocsTest {
    @Test
    void command_and_settings_references_match_the_code() throws IOException {
        Map<Path, String> pages = ReferenceDocs.pages(Path.of("config"));
        if (Boolean.getBoolean("docs.write")) {
            for (Map.Entry<Path, String> page : pages.entrySet()) Files.writeString(page.getKey(), page.getValue());
            return;
        }
        StringBuilder problems = new StringBuilder();
        for (Map.Entry<Path, String> page : pages.entrySet()) {
            String committed = Files.isRegularFile(page.getKey()) ? Files.readString(page.getKey()) : null;
            String difference = firstDifference(committed, page.getValue());
            if (difference != null)
                problems.append(page.getKey()).append(": ").append(difference).append('\n');
        }
        if (!problems.isEmpty()) {
            fail(problems + "The generated reference differs from the code; regenerate it with\n  "
                    + ReferenceDocs.REGENERATE + "\nand commit the result.");
        }
    }

    @Test
    void every_command_option_and_setting_is_in_the_pages() throws IOException {
        Map<Path, String> pages = ReferenceDocs.pages(Path.of("config"));
        String commands = pages.get(ReferenceDocs.COMMANDS);
        for (String expected : List.of(
                "### patchpilot window run", "`--skip-gate`", "### patchpilot dlq redrive", "| `4` |", "`4566` (env"))
            assertTrue(commands.contains(expected), "commands page lacks " + expected);
        String settings = pages.get(ReferenceDocs.SETTINGS);
        for (String expected : List.of(
                "| `patchpilot.member.external-id` | `${PATCHPILOT_EXTERNAL_ID}`<br>local: `local-external-id` |"
                        + " `PATCHPILOT_MEMBER_EXTERNAL_ID` | secret |",
                "| `patchpilot.report.engine` | `athena`<br>local: `duckdb` |"))
            assertTrue(settings.contains(expected), "settings page lacks " + expected);
    }

    @Test
    void every_setting_says_what_it_means() throws IOException {
        assertEquals(
                List.of(),
                ReferenceDocs.undocumentedSettings(Path.of("config")),
                "config/application.properties: write a comment right above each of these keys (its meaning in docs/settings.md)");
    }

    /** Null when equal; else the first line that differs, both ways. */
    static String firstDifference(String committed, String generated) {
        if (committed == null) return "missing";
        if (committed.equals(generated)) return null;
        List<String> a = committed.lines().toList();
        List<String> b = generated.lines().toList();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            String x = i < a.size() ? a.get(i) : "(end of file)";
            String y = i < b.size() ? b.get(i) : "(end of file)";
            if (!x.equals(y)) return "line " + (i + 1) + " is\n    " + x + "\n  the code gives\n    " + y;
        }
        return "differs in line endings";
    }
}
