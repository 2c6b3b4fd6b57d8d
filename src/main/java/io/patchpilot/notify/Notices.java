package io.patchpilot.notify;

import com.fasterxml.jackson.databind.JsonNode;
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
    /** A failed instance or account-region, for the summary's list. */
    public record Problem(String account, String region, String resource, String status, String reason) {}

    private final List<String> centralTeam;
    private final Map<String, String> accountContacts;

    public Notices(List<String> centralTeam, Map<String, String> accountContacts) {
        this.centralTeam = List.copyOf(centralTeam);
        this.accountContacts = Map.copyOf(accountContacts);
    }

    public Optional<Notice> of(String detailType, JsonNode detail, List<Problem> problems) {
        return switch (detailType) {
            case "Patch Run Completed" -> Optional.of(runCompleted(detail, problems));
            case "Patch Run Blocked" -> Optional.of(runBlocked(detail));
            case "Window Changed" -> windowChanged(detail);
            case "Emergency Approval Needed", "Emergency Run Started", "Emergency Run Decided" ->
                Optional.of(emergency(detailType, detail));
            default -> Optional.empty();
        };
    }

    private Notice runCompleted(JsonNode d, List<Problem> problems) {
        String runId = d.path("runId").asText();
        JsonNode counts = d.path("counts");
        long patched = counts.path("Success").asLong();
        long failed = counts.path("Failed").asLong()
                + counts.path("TimedOut").asLong()
                + counts.path("Undeliverable").asLong()
                + counts.path("Cancelled").asLong();
        long skipped = counts.path("Skipped").asLong();
        String subject = "[patchpilot] " + runId + ": " + d.path("status").asText() + " - " + patched + " patched, "
                + failed + " failed, " + skipped + " skipped";
        StringBuilder text = new StringBuilder(subject.substring("[patchpilot] ".length()))
                .append('\n')
                .append("Window ")
                .append(d.path("window").asText())
                .append(", occurrence ")
                .append(d.path("occurrence").asText())
                .append('\n');
        StringBuilder html = new StringBuilder("<h2>Patch run ")
                .append(esc(runId))
                .append(": ")
                .append(esc(d.path("status").asText()))
                .append("</h2><p>Window ")
                .append(esc(d.path("window").asText()))
                .append(", occurrence ")
                .append(esc(d.path("occurrence").asText()))
                .append("</p><table border=\"1\" cellpadding=\"4\"><tr><th>outcome</th><th>count</th></tr>");
        counts.properties().forEach(e -> {
            text.append("  ")
                    .append(e.getKey())
                    .append(": ")
                    .append(e.getValue().asLong())
                    .append('\n');
            html.append("<tr><td>")
                    .append(esc(e.getKey()))
                    .append("</td><td>")
                    .append(e.getValue().asLong())
                    .append("</td></tr>");
        });
        html.append("</table>");
        if (!problems.isEmpty()) {
            text.append("Needs attention:\n");
            html.append(
                            "<h3>Needs attention</h3><table border=\"1\" cellpadding=\"4\"><tr><th>account</th><th>region</th><th>resource</th>")
                    .append("<th>status</th><th>reason</th></tr>");
            for (Problem p : problems) {
                text.append("  ")
                        .append(p.account())
                        .append('/')
                        .append(p.region())
                        .append(' ')
                        .append(p.resource())
                        .append(' ')
                        .append(p.status())
                        .append(p.reason().isEmpty() || p.reason().equals(p.status()) ? "" : " - " + p.reason())
                        .append('\n');
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
                        .append("</td></tr>");
            }
            html.append("</table>");
        }
        return new Notice(
                subject,
                text.toString(),
                html.toString(),
                recipients(ownerOf(d.path("window").asText())),
                true);
    }

    private Notice runBlocked(JsonNode d) {
        String subject = "[patchpilot] " + d.path("runId").asText() + ": Blocked - "
                + d.path("reason").asText();
        String text =
                "Run " + d.path("runId").asText() + " of " + d.path("window").asText() + " holds, nothing was patched: "
                        + d.path("reason").asText() + "\nThe next occurrence checks again.\n";
        String html = "<h2>Patch run " + esc(d.path("runId").asText()) + ": Blocked</h2><p>"
                + esc(d.path("reason").asText()) + "</p><p>Nothing was patched; the next occurrence checks again.</p>";
        return new Notice(
                subject, text, html, recipients(ownerOf(d.path("window").asText())), true);
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
        return new Notice(subject, text, html, recipients("*"), true);
    }

    /** {@code 111111111111#Dev_maintenance_window} is owned by that account; {@code *#…} by the organization. */
    private static String ownerOf(String windowKey) {
        int hash = windowKey.indexOf('#');
        return hash > 0 ? windowKey.substring(0, hash) : "*";
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
