package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.ledger.Ledger;
import io.patchpilot.report.ReportRuns;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class ReportRunsViewTest {
    @Test
    void a_failed_report_shows_with_its_reason_beside_the_stored_ones() {
        String pk = ReportRuns.pk("report-20261207T0600");
        Map<String, AttributeValue> run = Ledger.item(pk, ReportRuns.REPORT);
        run.put("reportId", Ledger.s("report-20261207T0600"));
        run.put("status", Ledger.s("Published"));
        run.put("createdAt", Ledger.s("2026-12-07T06:00:00Z"));
        run.put("publishedAt", Ledger.s("2026-12-07T06:01:30Z"));
        Map<String, AttributeValue> stored = Ledger.item(pk, ReportRuns.CSV_PREFIX + "instance_list");
        stored.put("rows", AttributeValue.fromN("42"));
        stored.put("key", Ledger.s("reports/2026/12/07/instance_list.csv"));
        Map<String, AttributeValue> failed = Ledger.item(pk, ReportRuns.FAILED_PREFIX + "patch_run_outcomes");
        failed.put("status", Ledger.s("Failed"));
        failed.put(
                "reason", Ledger.s("athena: query q-1 FAILED: TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist"));

        var json = ReportRunsView.run(List.of(stored, failed, run));

        assertEquals("report-20261207T0600", json.get("reportId").asText());
        assertEquals("Published", json.get("status").asText());
        assertEquals("2026-12-07T06:01:30Z", json.get("publishedAt").asText());
        assertEquals(
                "[{\"name\":\"instance_list\",\"status\":\"Stored\",\"rows\":42,"
                        + "\"key\":\"reports/2026/12/07/instance_list.csv\"},"
                        + "{\"name\":\"patch_run_outcomes\",\"status\":\"Failed\","
                        + "\"reason\":\"athena: query q-1 FAILED: TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist\"}]",
                json.get("reports").toString());
    }

    @Test
    void a_run_not_yet_published_has_no_publication_time() {
        Map<String, AttributeValue> run = Ledger.item(ReportRuns.pk("r"), ReportRuns.REPORT);
        run.put("reportId", Ledger.s("r"));
        run.put("status", Ledger.s("Querying"));
        run.put("createdAt", Ledger.s("2026-12-07T06:00:00Z"));
        var json = ReportRunsView.run(List.of(run));
        assertEquals(true, json.get("publishedAt").isNull());
        assertEquals(0, json.get("reports").size());
    }
}
