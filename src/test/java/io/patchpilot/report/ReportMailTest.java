package io.patchpilot.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.notify.Notice;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportMailTest {
    @Test
    void csv_fields_may_hold_commas_quotes_and_newlines() {
        List<Map<String, String>> rows = Csv.rows("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\nthere\"\n2,,z\n");
        assertEquals(2, rows.size());
        assertEquals("x, y", rows.get(0).get("b"));
        assertEquals("say \"hi\"\nthere", rows.get(0).get("c"));
        assertEquals("", rows.get(1).get("b"));
        assertEquals(List.of(), Csv.rows("a,b\n"));
    }

    @Test
    void the_headline_sums_accounts_and_regions() {
        ReportMail.Headline h = ReportMail.headline(
                List.of(Map.of("instances", "7", "compliant", "5"), Map.of("instances", "3", "compliant", "3")),
                List.of(Map.of(), Map.of()));
        assertEquals(10, h.instances());
        assertEquals(80.0, h.percentCompliant());
        assertEquals(2, h.unmanaged());
    }

    @Test
    void owners_get_their_own_rows_and_the_rest_goes_to_the_account_contact_or_nobody() {
        var rows = List.of(
                Map.of("owner", "carol@example.com", "accountid", "222222222222", "resourceid", "i-1"),
                Map.of("owner", "", "accountid", "222222222222", "resourceid", "i-2"),
                Map.of("owner", "not-an-address", "accountid", "999999999999", "resourceid", "i-3"));
        var byOwner = ReportMail.byOwner(rows, Map.of("222222222222", "payments-owners@example.com"));
        assertEquals(List.of("carol@example.com", "payments-owners@example.com"), List.copyOf(byOwner.keySet()));
        assertEquals("i-1", byOwner.get("carol@example.com").get(0).get("resourceid"));
        Notice n = ReportMail.owner("report-1", "carol@example.com", byOwner.get("carol@example.com"));
        assertEquals("[patchpilot] 1 of your instances is not patch-compliant (report-1)", n.subject());
        assertTrue(n.html().contains("<td>i-1</td>") && !n.html().contains("i-2"));
    }

    @Test
    void big_reports_are_linked_instead_of_attached() {
        Notice n = ReportMail.team(
                "report-1",
                new ReportMail.Headline(4, 3, 0),
                List.of(
                        new ReportMail.Stored("small", 2, 100, "reports/2026/11/27/small.csv", null),
                        new ReportMail.Stored(
                                "big", 90000, 5_000_000, "reports/2026/11/27/big.csv", "https://example/presigned")),
                List.of("t@example.com"));
        assertEquals(
                "[patchpilot] report-1: 75.0% of 4 managed instances compliant, 1 non-compliant, 0 unmanaged",
                n.subject());
        assertTrue(
                n.html().contains("small.csv (attached)")
                        && n.html().contains("<a href=\"https://example/presigned\">download</a>"),
                n.html());
    }

    @Test
    void a_failed_report_is_listed_with_the_engines_reason() {
        Notice n = ReportMail.team(
                "report-1",
                new ReportMail.Headline(4, 3, 0),
                List.of(new ReportMail.Stored("small", 2, 100, "reports/2026/11/27/small.csv", null)),
                List.of(new ReportMail.Failed(
                        "patch_run_outcomes", "athena: query q-1 FAILED: TABLE_NOT_FOUND: <patch_runs>")),
                List.of("t@example.com"));
        assertTrue(
                n.text()
                        .contains(
                                "patch_run_outcomes: Failed (athena: query q-1 FAILED: TABLE_NOT_FOUND: <patch_runs>)"),
                n.text());
        assertTrue(
                n.html()
                        .contains("<td>patch_run_outcomes</td><td>Failed</td><td>athena: query q-1 FAILED: "
                                + "TABLE_NOT_FOUND: &lt;patch_runs&gt;</td>"),
                n.html());
        assertTrue(n.text().contains("small: 2 rows"), n.text());
    }

    @Test
    void the_slack_post_links_every_csv_with_its_expiry_and_claims_no_attachment() {
        Notice team = ReportMail.team(
                "report-1",
                new ReportMail.Headline(4, 3, 0),
                List.of(new ReportMail.Stored("small", 2, 100, "reports/2026/11/27/small.csv", null)),
                List.of("t@example.com"));
        Notice n = ReportMail.withSlackPost(
                team,
                "report-1",
                new ReportMail.Headline(4, 3, 0),
                List.of(new ReportMail.Linked("small", 2, "https://example/presigned?X-Amz-Expires=604800")),
                Instant.parse("2026-12-04T06:00:00Z"));
        String blocks = n.slackBlocks().orElseThrow().toString();
        assertTrue(blocks.contains("<https://example/presigned?X-Amz-Expires=604800|small.csv> 2 rows"), blocks);
        assertTrue(blocks.contains("download links expire 2026-12-04T06:00:00Z"), blocks);
        String text = n.slackText().orElseThrow();
        assertTrue(text.contains("small.csv: 2 rows https://example/presigned"), text);
        assertTrue(!blocks.contains("attached") && !text.contains("attached"), text);
        assertTrue(n.text().contains("attached: small.csv"), "the mail still attaches it: " + n.text());
    }
}
