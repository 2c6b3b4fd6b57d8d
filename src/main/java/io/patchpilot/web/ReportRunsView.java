package io.patchpilot.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.report.ReportRuns;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * {@code /api/reports}: the report runs of the last {@link #DAYS} days, newest first, each report
 * {@code Stored} with its rows or {@code Failed} with the engine's reason (from the run's ledger items).
 */
public final class ReportRunsView {
    static final int DAYS = 90;
    static final int DEFAULT = 10;
    static final int MAX = 50;
    private final Ledger ledger;
    private final Clock clock;

    public ReportRunsView(Ledger ledger, Clock clock) {
        this.ledger = ledger;
        this.clock = clock;
    }

    public ObjectNode list(int limit) {
        List<Map<String, AttributeValue>> index = ledger.between(
                ReportRuns.INDEX, clock.instant().minus(Duration.ofDays(DAYS)).toString(), "~");
        ObjectNode out = DashboardApi.JSON.createObjectNode();
        ArrayNode items = out.putArray("items");
        for (int i = index.size() - 1; i >= 0 && items.size() < limit; i--) {
            List<Map<String, AttributeValue>> run =
                    ledger.partition(ReportRuns.pk(Ledger.text(index.get(i), "reportId")));
            if (!run.isEmpty()) items.add(run(run));
        }
        return out;
    }

    /** One run from its ledger partition: the REPORT item, then its CSV# and FAILED# items. */
    static ObjectNode run(List<Map<String, AttributeValue>> partition) {
        ObjectNode out = DashboardApi.JSON.createObjectNode();
        ArrayNode reports = DashboardApi.JSON.createArrayNode();
        for (Map<String, AttributeValue> i : partition) {
            String sk = i.get("sk").s();
            if (sk.equals(ReportRuns.REPORT)) {
                out.put("reportId", Ledger.text(i, "reportId"))
                        .put("status", Ledger.text(i, "status"))
                        .put("createdAt", Ledger.text(i, "createdAt"));
                String published = Ledger.text(i, "publishedAt");
                if (published.isEmpty()) out.putNull("publishedAt");
                else out.put("publishedAt", published);
            } else if (sk.startsWith(ReportRuns.CSV_PREFIX)) {
                reports.addObject()
                        .put("name", sk.substring(ReportRuns.CSV_PREFIX.length()))
                        .put("status", "Stored")
                        .put("rows", Long.parseLong(i.get("rows").n()))
                        .put("key", Ledger.text(i, "key"));
            } else if (sk.startsWith(ReportRuns.FAILED_PREFIX)) {
                reports.addObject()
                        .put("name", sk.substring(ReportRuns.FAILED_PREFIX.length()))
                        .put("status", "Failed")
                        .put("reason", Ledger.text(i, "reason"));
            }
        }
        out.set("reports", reports);
        return out;
    }
}
