package io.patchpilot.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowNames;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The dashboard's read-only JSON API: {@code /api/compliance}, {@code /api/compliance/history}, {@code /api/runs},
 * {@code /api/runs/{id}}, {@code /api/windows}, {@code /api/reports}. Bad parameters answer 400 with the reason.
 */
public final class DashboardApi {
    static final ObjectMapper JSON = WindowStore.json().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    static final int RUNS_DEFAULT = 20;
    static final int RUNS_MAX = 100;
    static final int TARGETS_DEFAULT = 200;
    static final int TARGETS_MAX = 1000;

    private final ComplianceSource compliance;
    private final ComplianceHistory history;
    private final RunsView runs;
    private final ReportRunsView reports;
    private final WindowStore windows;
    private final Clock clock;

    public DashboardApi(
            ComplianceSource compliance,
            ComplianceHistory history,
            RunsView runs,
            ReportRunsView reports,
            WindowStore windows,
            Clock clock) {
        this.compliance = compliance;
        this.history = history;
        this.runs = runs;
        this.reports = reports;
        this.windows = windows;
        this.clock = clock;
    }

    public void compliance(Exchange exchange) {
        respond(exchange, () -> {
            Message m = exchange.getMessage();
            ComplianceSource.Snapshot s = compliance.latest();
            Compliance.Summary summary = Compliance.summarize(s.instances(), filter(m));
            ObjectNode out = JSON.valueToTree(summary);
            out.put(
                    "reportPublishedAt",
                    s.lastModified() == null ? null : s.lastModified().toString());
            return out;
        });
    }

    /** {@code ?days=90&account=&region=&environment=}: one point per report run, oldest first. */
    public void complianceHistory(Exchange exchange) {
        respond(exchange, () -> {
            Message m = exchange.getMessage();
            int days = Paging.number(
                    "days",
                    m.getHeader("days", String.class),
                    ComplianceHistory.DAYS_DEFAULT,
                    1,
                    ComplianceHistory.DAYS_MAX);
            ObjectNode out = JSON.createObjectNode().put("days", days);
            out.set("points", JSON.valueToTree(history.history(days, filter(m))));
            return out;
        });
    }

    private static Compliance.Filter filter(Message m) {
        return new Compliance.Filter(
                m.getHeader("account", String.class),
                m.getHeader("region", String.class),
                m.getHeader("environment", String.class));
    }

    public void runs(Exchange exchange) {
        respond(exchange, () -> {
            Message m = exchange.getMessage();
            int limit = Paging.limit(m.getHeader("limit", String.class), RUNS_DEFAULT, RUNS_MAX);
            return runs.list(limit, Paging.sortKey(m.getHeader("cursor", String.class)));
        });
    }

    public void run(Exchange exchange) {
        respond(exchange, () -> {
            Message m = exchange.getMessage();
            String id = m.getHeader("id", String.class);
            if (id == null || !id.matches("[A-Za-z0-9._:-]{1,200}"))
                throw new Paging.BadRequest("id: '" + id + "' is not a run id");
            int limit = Paging.limit(m.getHeader("limit", String.class), TARGETS_DEFAULT, TARGETS_MAX);
            return runs.run(id, limit, m.getHeader("cursor", String.class)).orElse(null);
        });
    }

    /** {@code ?limit=10}: the latest report runs, each report Stored (rows) or Failed (the engine's reason). */
    public void reports(Exchange exchange) {
        respond(
                exchange,
                () -> reports.list(Paging.limit(
                        exchange.getMessage().getHeader("limit", String.class),
                        ReportRunsView.DEFAULT,
                        ReportRunsView.MAX)));
    }

    public void windows(Exchange exchange) {
        respond(exchange, () -> windowsJson(windows.list(), clock.instant()));
    }

    /** Every window with its schedule in words and its next opening, soonest first. */
    static ObjectNode windowsJson(List<MaintenanceWindow> all, Instant now) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode items = out.putArray("items");
        all.stream()
                .sorted(Comparator.comparing((MaintenanceWindow w) ->
                                WindowSchedule.nextOpening(w, now).orElse(Instant.MAX))
                        .thenComparing(WindowNames::display))
                .forEach(w -> {
                    ObjectNode o = items.addObject()
                            .put("displayName", WindowNames.display(w))
                            .put("name", w.name())
                            .put("account", w.account())
                            .put("environment", w.environment())
                            .put("schedule", WindowSchedule.describe(w));
                    o.put(
                            "nextOpening",
                            WindowSchedule.nextOpening(w, now)
                                    .map(Instant::toString)
                                    .orElse(null));
                    o.set("window", JSON.valueToTree(w));
                });
        out.putNull("nextCursor");
        return out;
    }

    private interface Body {
        Object get();
    }

    private static void respond(Exchange exchange, Body body) {
        Message m = exchange.getMessage();
        m.setHeader(Exchange.CONTENT_TYPE, "application/json");
        m.setHeader("Cache-Control", "no-store");
        try {
            Object b = body.get();
            if (b == null) {
                m.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
                m.setBody("{\"error\":\"not found\"}");
            } else {
                m.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
                m.setBody(JSON.writeValueAsString(b));
            }
        } catch (Paging.BadRequest e) {
            m.setHeader(Exchange.HTTP_RESPONSE_CODE, 400);
            m.setBody(JSON.createObjectNode().put("error", e.getMessage()).toString());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> none() {
        return Map.of();
    }
}
