package io.patchpilot.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.patching.RunFigures;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Slack Block Kit messages. A run summary: a header with the outcome, the run's figures as
 * fields, "Needs attention" (at most {@value #ATTENTION_LINES} lines, then "+N more"), and a link to
 * the run page when the dashboard's public address is known.
 */
final class SlackBlocks {
    static final int ATTENTION_LINES = 10;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SlackBlocks() {}

    static ArrayNode run(RunFigures f, Optional<String> publicUrl) {
        ArrayNode blocks = JSON.createArrayNode();
        String mark = f.status().equals("Succeeded") ? "✅" : "⚠️";
        blocks.addObject()
                .put("type", "header")
                .putObject("text")
                .put("type", "plain_text")
                .put("text", cut(mark + " " + f.runId() + ": " + f.status(), 150));
        section(blocks, "*Window* " + esc(f.window()) + "\n*Occurrence* " + esc(f.occurrence()));
        ObjectNode fields = blocks.addObject().put("type", "section");
        ArrayNode list = fields.putArray("fields");
        field(list, "Account-regions", f.accountRegionsDone() + " of " + f.accountRegionsTotal() + " done");
        field(list, "Patched", Long.toString(f.patched()));
        field(list, "Failed", Long.toString(f.failed()));
        field(list, "Skipped", Long.toString(f.skipped()));
        field(list, "AutoScaling groups", f.groupsLine());
        if (f.problemsTotal() > 0) {
            StringBuilder text = new StringBuilder("*Needs attention*");
            int shown = Math.min(ATTENTION_LINES, f.problems().size());
            for (RunFigures.Problem p : f.problems().subList(0, shown))
                text.append("\n• ")
                        .append(esc(p.account() + "/" + p.region() + " " + p.resource() + " " + p.status()))
                        .append(
                                p.reason().isEmpty() || p.reason().equals(p.status())
                                        ? ""
                                        : " – " + esc(cut(p.reason(), 200)));
            if (f.problemsTotal() > shown)
                text.append("\n+").append(f.problemsTotal() - shown).append(" more");
            section(blocks, cut(text.toString(), 3000));
        }
        runPage(publicUrl, f.runId()).ifPresent(link -> section(blocks, "<" + link + "|Open the run page>"));
        return blocks;
    }

    /**
     * Any other notice (a blocked run, an emergency request's progress) in the same shape: a header,
     * the facts as fields (name, value pairs), what to do in a section, and the run page's link.
     */
    static ArrayNode notice(String header, List<String> fields, String body, Optional<String> runPage) {
        ArrayNode blocks = JSON.createArrayNode();
        blocks.addObject()
                .put("type", "header")
                .putObject("text")
                .put("type", "plain_text")
                .put("text", cut(header, 150));
        ArrayNode list = blocks.addObject().put("type", "section").putArray("fields");
        for (int i = 0; i + 1 < fields.size(); i += 2) field(list, fields.get(i), cut(fields.get(i + 1), 1900));
        if (!body.isEmpty()) section(blocks, cut(esc(body), 3000));
        runPage.ifPresent(link -> section(blocks, "<" + link + "|Open the run page>"));
        return blocks;
    }

    /** The run page's address, when the dashboard's public address is known. */
    static Optional<String> runPage(Optional<String> publicUrl, String runId) {
        return publicUrl.map(
                base -> base.replaceAll("/+$", "") + "/runs/" + URLEncoder.encode(runId, StandardCharsets.UTF_8));
    }

    private static void section(ArrayNode blocks, String mrkdwn) {
        blocks.addObject()
                .put("type", "section")
                .putObject("text")
                .put("type", "mrkdwn")
                .put("text", mrkdwn);
    }

    private static void field(ArrayNode fields, String name, String value) {
        fields.addObject().put("type", "mrkdwn").put("text", "*" + name + "*\n" + esc(value));
    }

    /** Slack's mrkdwn control characters. */
    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
