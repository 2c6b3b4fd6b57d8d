package io.patchpilot.notify;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.patching.RunFigures;
import io.patchpilot.patching.RunText;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which of patchpilot's events people hear about, and how they read: run summaries and blocked
 * runs go to the central team (and the account owning the window), window changes to the
 * requesting account's contact. Tag audits are not news.
 */
public final class Notices {
    private final List<String> centralTeam;
    private final Map<String, String> accountContacts;

    private final Optional<String> publicUrl;

    public Notices(List<String> centralTeam, Map<String, String> accountContacts) {
        this(centralTeam, accountContacts, Optional.empty());
    }

    /** @param publicUrl the dashboard's address as people reach it ({@code patchpilot.http.public-url}), for links */
    public Notices(List<String> centralTeam, Map<String, String> accountContacts, Optional<String> publicUrl) {
        this.centralTeam = List.copyOf(centralTeam);
        this.accountContacts = Map.copyOf(accountContacts);
        this.publicUrl = publicUrl.filter(u -> !u.isBlank());
    }

    /** @param figures the run's figures, for a run's completion (read from the ledger when it is announced) */
    public Optional<Notice> of(String detailType, JsonNode detail, Optional<RunFigures> figures) {
        return switch (detailType) {
            case "Patch Run Completed" -> Optional.of(runCompleted(detail, figures.orElseGet(() -> fromEvent(detail))));
            case "Patch Run Blocked" -> Optional.of(runBlocked(detail));
            case "Window Changed" -> windowChanged(detail);
            case "Emergency Approval Needed", "Emergency Run Started", "Emergency Run Decided" ->
                Optional.of(emergency(detailType, detail));
            default -> Optional.empty();
        };
    }

    /** A run gone from the ledger: what its event says, nothing to list. */
    private static RunFigures fromEvent(JsonNode d) {
        return new RunFigures(
                d.path("runId").asText(),
                d.path("window").asText(),
                d.path("status").asText(),
                d.path("occurrence").asText(),
                0,
                0,
                Map.of(),
                Map.of(),
                Map.of(),
                List.of(),
                0);
    }

    private Notice runCompleted(JsonNode d, RunFigures f) {
        String subject =
                "[patchpilot] " + f.runId() + ": " + f.status() + " - " + f.patched() + " patched, " + f.failed()
                        + " failed, " + f.skipped() + " skipped" + (f.window().isEmpty() ? "" : " - " + f.window());
        StringBuilder text = new StringBuilder(subject.substring("[patchpilot] ".length())).append('\n');
        // a step that gave up was resumed from the DLQ after the run had ended: it ended again
        String again = d.path("recompletion").asBoolean()
                ? "Ended again (end " + d.path("completion").asInt() + "): a step resumed from the DLQ reopened it;"
                        + " these figures replace those of its earlier end."
                : "";
        if (!again.isEmpty()) text.append(again).append('\n');
        RunText.lines(f).forEach(l -> text.append(l).append('\n'));
        StringBuilder html = new StringBuilder("<h2>Patch run ")
                .append(esc(f.runId()))
                .append(": ")
                .append(esc(f.status()))
                .append("</h2><p>Window ")
                .append(esc(f.window()))
                .append(", occurrence ")
                .append(esc(f.occurrence()))
                .append("</p>")
                .append(again.isEmpty() ? "" : "<p>" + esc(again) + "</p>")
                .append("<table border=\"1\" cellpadding=\"4\">")
                .append(row("account-regions", f.accountRegionsDone() + " of " + f.accountRegionsTotal() + " done"))
                .append(row("instances", f.instancesLine()))
                .append(row("AutoScaling groups", f.groupsLine()))
                .append("</table>");
        if (!f.problems().isEmpty()) {
            html.append(
                            "<h3>Needs attention</h3><table border=\"1\" cellpadding=\"4\"><tr><th>account</th><th>region</th><th>resource</th>")
                    .append("<th>status</th><th>reason</th><th>output</th></tr>");
            for (RunFigures.Problem p : f.problems()) {
                html.append("<tr><td>")
                        .append(esc(p.account()))
                        .append("</td><td>")
                        .append(esc(p.region()))
                        .append("</td><td>")
                        .append(esc(p.resource()))
                        .append("</td><td>")
                        .append(esc(p.status()))
                        .append("</td><td>")
                        .append(esc(p.reason()))
                        .append("</td><td>")
                        .append(esc(p.output()))
                        .append("</td></tr>");
            }
            html.append("</table>");
            if (f.problemsTotal() > f.problems().size())
                html.append("<p>+")
                        .append(f.problemsTotal() - f.problems().size())
                        .append(" more</p>");
        }
        publicUrl.ifPresent(base -> {
            String link = base.replaceAll("/+$", "") + "/runs/" + f.runId();
            text.append("Run page: ").append(link).append('\n');
            html.append("<p><a href=\"").append(esc(link)).append("\">Open the run page</a></p>");
        });
        return new Notice(subject, text.toString(), html.toString(), recipients(ownerOf(d)), true)
                .withSlackBlocks(SlackBlocks.run(f, publicUrl));
    }

    private static String row(String what, String value) {
        return "<tr><th align=\"left\">" + esc(what) + "</th><td>" + esc(value) + "</td></tr>";
    }

    private Notice runBlocked(JsonNode d) {
        String subject = "[patchpilot] " + d.path("runId").asText() + ": Blocked - "
                + d.path("reason").asText();
        String text =
                "Run " + d.path("runId").asText() + " of " + d.path("window").asText() + " holds, nothing was patched: "
                        + d.path("reason").asText() + "\nThe next occurrence checks again.\n";
        String html = "<h2>Patch run " + esc(d.path("runId").asText()) + ": Blocked</h2><p>"
                + esc(d.path("reason").asText()) + "</p><p>Nothing was patched; the next occurrence checks again.</p>";
        return new Notice(subject, text, html, recipients(ownerOf(d)), true)
                .withSlackBlocks(SlackBlocks.notice(
                        "⛔ " + d.path("runId").asText() + ": Blocked",
                        List.of("Window", d.path("window").asText(), "Patched", "nothing"),
                        d.path("reason").asText() + "\nThe next occurrence checks again.",
                        SlackBlocks.runPage(publicUrl, d.path("runId").asText())));
    }

    private Optional<Notice> windowChanged(JsonNode d) {
        String contact = accountContacts.get(d.path("account").asText());
        if (contact == null) return Optional.empty();
        String what = d.path("window").asText() + " " + d.path("result").asText() + " in "
                + d.path("account").asText();
        return Optional.of(new Notice(
                "[patchpilot] " + what,
                "Your request (" + d.path("action").asText() + ") was applied: " + what
                        + ".\nYour instances are re-tagged for it now.\n",
                "<p>Your request (" + esc(d.path("action").asText()) + ") was applied: <b>" + esc(what)
                        + "</b>.</p><p>Your instances are re-tagged for it now.</p>",
                List.of(contact),
                false));
    }

    private Notice emergency(String detailType, JsonNode d) {
        String runId = d.path("runId").asText();
        String what = switch (detailType) {
            case "Emergency Approval Needed" ->
                "waits for approval until " + d.path("expiresAt").asText()
                        + ": approve with 'patchpilot emergency approve " + runId
                        + "' (any approver but the requester)";
            case "Emergency Run Started" ->
                "started on " + d.path("accountRegions").asInt() + " account-regions";
            default ->
                d.path("decision").asText()
                        + (d.hasNonNull("approver")
                                ? " by " + d.path("approver").asText()
                                : "");
        };
        String headline = switch (detailType) {
            case "Emergency Approval Needed" -> "needs approval";
            case "Emergency Run Started" -> "started";
            default -> d.path("decision").asText();
        };
        String subject =
                "[patchpilot] emergency " + runId + " (" + d.path("env").asText() + ") " + headline;
        String text = "Emergency run " + runId + " for " + d.path("env").asText() + " " + what + ".\nRequested by "
                + d.path("requester").asText() + ": " + d.path("reason").asText() + "\n";
        String html = "<p>Emergency run <b>" + esc(runId) + "</b> for "
                + esc(d.path("env").asText()) + " " + esc(what) + ".</p><p>Requested by "
                + esc(d.path("requester").asText()) + ": "
                + esc(d.path("reason").asText()) + "</p>";
        String mark = switch (detailType) {
            case "Emergency Approval Needed" -> "🔔";
            case "Emergency Run Started" -> "🚨";
            default -> d.path("decision").asText().equals("approved") ? "✅" : "⛔";
        };
        return new Notice(subject, text, html, recipients("*"), true)
                .withSlackBlocks(SlackBlocks.notice(
                        mark + " Emergency " + runId + " (" + d.path("env").asText() + ") " + headline,
                        List.of(
                                "Requested by",
                                d.path("requester").asText(),
                                "Reason",
                                d.path("reason").asText()),
                        "Emergency run " + runId + " " + what + ".",
                        SlackBlocks.runPage(publicUrl, runId)));
    }

    /** A run event's {@code windowScope}: the owning account, or {@code organization} (no account contact). */
    private static String ownerOf(JsonNode detail) {
        return detail.path("windowScope").asText("organization");
    }

    private List<String> recipients(String owner) {
        LinkedHashSet<String> to = new LinkedHashSet<>(centralTeam);
        if (accountContacts.containsKey(owner)) to.add(accountContacts.get(owner));
        return new ArrayList<>(to);
    }

    /** Text for HTML mail bodies. */
    public static String esc(String s) {
        return s == null
                ? ""
                : s.replace("&", "&amp;")
                        .replace("<", "&lt;")
                        .replace(">", "&gt;")
                        .replace("\"", "&quot;");
    }
}
