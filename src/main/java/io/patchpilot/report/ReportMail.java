package io.patchpilot.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.patchpilot.notify.Notice;
import io.patchpilot.notify.Notices;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a published report says: the team's mail (an HTML table of the reports with their row
 * counts, the CSVs attached or linked), the Slack headline, and one mail per owner listing only
 * that owner's non-compliant instances.
 */
public final class ReportMail {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReportMail() {}

    /** One stored report: its name, rows, S3 key and, when too big to attach, a link. */
    public record Stored(String name, long rows, long bytes, String key, String link) {}

    /** The headline numbers, from compliance_by_account_region and unmanaged_instances. */
    public record Headline(long instances, long compliant, long unmanaged) {
        public double percentCompliant() {
            return instances == 0 ? 100.0 : Math.round(1000.0 * compliant / instances) / 10.0;
        }
    }

    public static Headline headline(List<Map<String, String>> byAccountRegion, List<Map<String, String>> unmanaged) {
        long instances = 0;
        long compliant = 0;
        for (Map<String, String> r : byAccountRegion) {
            instances += Long.parseLong(r.getOrDefault("instances", "0"));
            compliant += Long.parseLong(r.getOrDefault("compliant", "0"));
        }
        return new Headline(instances, compliant, unmanaged.size());
    }

    /** A report whose query failed: its name and the engine's reason (Athena's StateChangeReason). */
    public record Failed(String name, String reason) {}

    public static Notice team(String reportId, Headline h, List<Stored> stored, List<String> to) {
        return team(reportId, h, stored, List.of(), to);
    }

    public static Notice team(String reportId, Headline h, List<Stored> stored, List<Failed> failed, List<String> to) {
        String subject = "[patchpilot] " + reportId + ": " + h.percentCompliant() + "% of " + h.instances()
                + " managed instances compliant, " + (h.instances() - h.compliant()) + " non-compliant, "
                + h.unmanaged() + " unmanaged";
        StringBuilder text = new StringBuilder(subject.substring("[patchpilot] ".length())).append("\n\n");
        StringBuilder html = new StringBuilder("<h2>Patch compliance ")
                .append(esc(reportId))
                .append("</h2><p>")
                .append(h.percentCompliant())
                .append("% of ")
                .append(h.instances())
                .append(" managed instances compliant; ")
                .append(h.instances() - h.compliant())
                .append(" non-compliant; ")
                .append(h.unmanaged())
                .append(
                        " running but unknown to SSM.</p><table border=\"1\" cellpadding=\"4\"><tr><th>report</th><th>rows</th><th>file</th></tr>");
        for (Stored s : stored) {
            String file = s.link() == null ? "attached: " + s.name() + ".csv" : s.link();
            text.append("  ")
                    .append(s.name())
                    .append(": ")
                    .append(s.rows())
                    .append(" rows (")
                    .append(file)
                    .append(")\n");
            html.append("<tr><td>")
                    .append(esc(s.name()))
                    .append("</td><td>")
                    .append(s.rows())
                    .append("</td><td>")
                    .append(
                            s.link() == null
                                    ? esc(s.name()) + ".csv (attached)"
                                    : "<a href=\"" + esc(s.link()) + "\">download</a>")
                    .append("</td></tr>");
        }
        for (Failed f : failed) {
            text.append("  ")
                    .append(f.name())
                    .append(": Failed (")
                    .append(f.reason())
                    .append(")\n");
            html.append("<tr><td>")
                    .append(esc(f.name()))
                    .append("</td><td>Failed</td><td>")
                    .append(esc(f.reason()))
                    .append("</td></tr>");
        }
        html.append("</table>");
        return new Notice(subject, text.toString(), html.toString(), to, true);
    }

    /** A CSV as Slack links it: a pre-signed download link. */
    public record Linked(String name, long rows, String url) {}

    /**
     * The team's Slack post: the headline, and each CSV as a pre-signed link with the time it
     * expires (an incoming webhook attaches nothing, so nothing claims an attachment).
     */
    public static Notice withSlackPost(Notice team, String reportId, Headline h, List<Linked> csvs, Instant expires) {
        ArrayNode blocks = JSON.createArrayNode();
        blocks.addObject()
                .put("type", "header")
                .putObject("text")
                .put("type", "plain_text")
                .put("text", "Patch compliance " + reportId);
        String headline = h.percentCompliant() + "% of " + h.instances() + " managed instances compliant, "
                + (h.instances() - h.compliant()) + " non-compliant, " + h.unmanaged() + " unmanaged";
        section(blocks, slackEsc(headline));
        StringBuilder files = new StringBuilder("*Reports* (download links expire " + expires + ")");
        StringBuilder text =
                new StringBuilder(reportId + ": " + headline + "\nReports (download links expire " + expires + "):\n");
        for (Linked c : csvs) {
            files.append("\n• <")
                    .append(c.url())
                    .append('|')
                    .append(slackEsc(c.name()))
                    .append(".csv> ")
                    .append(c.rows())
                    .append(" rows");
            text.append("  ")
                    .append(c.name())
                    .append(".csv: ")
                    .append(c.rows())
                    .append(" rows ")
                    .append(c.url())
                    .append('\n');
        }
        section(blocks, files.length() <= 3000 ? files.toString() : files.substring(0, 2999) + "…");
        return team.withSlack(blocks, text.toString());
    }

    private static void section(ArrayNode blocks, String mrkdwn) {
        blocks.addObject()
                .put("type", "section")
                .putObject("text")
                .put("type", "mrkdwn")
                .put("text", mrkdwn);
    }

    private static String slackEsc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /**
     * Rows of owner_non_compliant grouped by whom to tell: the owner tag's address, or the account's
     * fallback contact; rows nobody can be told about are left out.
     */
    public static Map<String, List<Map<String, String>>> byOwner(
            List<Map<String, String>> rows, Map<String, String> accountContacts) {
        Map<String, List<Map<String, String>>> out = new LinkedHashMap<>();
        for (Map<String, String> r : rows) {
            String owner = r.getOrDefault("owner", "");
            String to = owner.matches("[^@\\s]+@[^@\\s]+") ? owner : accountContacts.get(r.get("accountid"));
            if (to != null) out.computeIfAbsent(to, k -> new ArrayList<>()).add(r);
        }
        return out;
    }

    public static Notice owner(String reportId, String to, List<Map<String, String>> rows) {
        String subject = "[patchpilot] " + rows.size() + " of your instances " + (rows.size() == 1 ? "is" : "are")
                + " not patch-compliant (" + reportId + ")";
        StringBuilder text = new StringBuilder("These instances are missing patches or failed to install them:\n");
        StringBuilder html = new StringBuilder(
                "<p>These instances are missing patches or failed to install them:</p><table border=\"1\" cellpadding=\"4\">"
                        + "<tr><th>account</th><th>region</th><th>instance</th><th>name</th><th>environment</th><th>missing or failed</th><th>worst severity</th></tr>");
        for (Map<String, String> r : rows) {
            text.append("  ")
                    .append(r.get("accountid"))
                    .append('/')
                    .append(r.get("region"))
                    .append(' ')
                    .append(r.get("resourceid"))
                    .append(' ')
                    .append(r.getOrDefault("name", ""))
                    .append(": ")
                    .append(r.get("missing_or_failed"))
                    .append(" (")
                    .append(r.get("overallseverity"))
                    .append(")\n");
            html.append("<tr>");
            for (String k : List.of(
                    "accountid",
                    "region",
                    "resourceid",
                    "name",
                    "environment",
                    "missing_or_failed",
                    "overallseverity")) {
                html.append("<td>").append(esc(r.getOrDefault(k, ""))).append("</td>");
            }
            html.append("</tr>");
        }
        html.append("</table>");
        return new Notice(subject, text.toString(), html.toString(), List.of(to), false);
    }

    private static String esc(String s) {
        return Notices.esc(s);
    }
}
