package io.patchpilot.acceptance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.icegreen.greenmail.util.GreenMailUtil;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.local.LocalMode;
import io.patchpilot.report.Csv;
import io.patchpilot.report.DuckDbEngine;
import io.patchpilot.report.ReportCatalog;
import io.patchpilot.report.ReportRuns;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.athena.AthenaClient;
import software.amazon.awssdk.services.athena.model.QueryExecutionState;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Reports on the local Athena (a real Trino server over the local Glue catalog and S3): local mode
 * with {@code patchpilot.report.engine=athena}, the default fleet patched, plus a generated
 * inventory account with awkward values (commas, quotes, newlines, empty and missing fields,
 * non-ASCII) and 10,000+ compliance items. Every report's CSV from the Athena route has the same
 * records as DuckDB's over the same files. The first run downloads Trino (about 820 MB) into ~/.m2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AthenaReportIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GENERATED = "999999999999";
    private static final List<String> AWKWARD = Arrays.asList(
            "plain", "comma, inside", "quote \" inside", "new\nline", "", null, "Sécurité — 更新 ✓", "trailing space ");
    private static final int ITEMS = 10_500;
    private LocalMode local;

    @BeforeAll
    void start() throws Exception {
        long t0 = System.nanoTime();
        local = LocalFixture.start(
                "config/local/fleet.yaml",
                Map.of("patchpilot.report.engine", "athena", "patchpilot.report.stale-days", "0"));
        long up = System.nanoTime();
        var trino = local.localAws().athenaEngine(Duration.ofMinutes(15));
        System.out.printf(
                "AthenaReportIT: local mode up in %.1f s, Trino %s ready %.1f s later%n",
                (up - t0) / 1e9, trino, (System.nanoTime() - up) / 1e9);
        LocalFixture.tagAndPatchWithDefaultWindow(local);
        generateInventory();
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    /** An account the sync does not own, in the sync's layout: what Resource Data Sync would write for it. */
    private void generateInventory() throws Exception {
        S3Client s3 = local.aws().hub(S3Client.class);
        String bucket = local.config().buckets().inventory();
        String where = "accountid=" + GENERATED + "/region=us-east-1/resourcetype=ManagedInstanceInventory/";
        StringBuilder info = new StringBuilder();
        StringBuilder summary = new StringBuilder();
        StringBuilder items = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            String id = String.format("i-awk%012d", i);
            ObjectNode n = base(id);
            put(n, "computername", AWKWARD.get(i % AWKWARD.size()));
            put(n, "platformname", i % 2 == 0 ? "Windows Server 2022 — Français" : "Amazon Linux");
            put(n, "platformtype", i % 2 == 0 ? "Windows" : "Linux");
            put(n, "ipaddress", i % 3 == 0 ? null : "10.0.0." + i);
            put(n, "instancestatus", i % 4 == 0 ? "" : "Active");
            put(n, "agentversion", "3.3.0." + i);
            put(n, "instanceid", id);
            info.append(JSON.writeValueAsString(n)).append('\n');
            ObjectNode s = base(id);
            put(s, "compliancetype", "Patch");
            put(s, "status", i % 3 == 0 ? "COMPLIANT" : "NON_COMPLIANT");
            put(s, "overallseverity", i % 3 == 0 ? "UNSPECIFIED" : "CRITICAL");
            for (String state : List.of("compliant", "noncompliant"))
                for (String sev : List.of("critical", "high", "medium", "low", "informational", "unspecified"))
                    s.put(state + sev + "count", (i * 7 + sev.length() + state.length()) % 5);
            summary.append(JSON.writeValueAsString(s)).append('\n');
        }
        for (int k = 0; k < ITEMS; k++) {
            ObjectNode n = base(String.format("i-awk%012d", k % 100));
            put(n, "compliancetype", "Patch");
            put(n, "id", String.format("KB%07d", k));
            put(n, "title", AWKWARD.get(k % AWKWARD.size()));
            put(n, "status", k % 4 == 0 ? "COMPLIANT" : "NON_COMPLIANT");
            put(n, "severity", List.of("CRITICAL", "IMPORTANT", "", "LOW").get(k % 4));
            put(
                    n,
                    "classification",
                    k % 5 == 0
                            ? null
                            : List.of("Security", "Bugfix", "CriticalUpdates").get(k % 3));
            put(n, "patchstate", k % 4 == 0 ? "Installed" : "Missing");
            put(n, "executiontime", "2026-11-0" + (1 + k % 9) + "T10:00:00Z");
            put(n, "installedtime", k % 4 == 0 ? "2026-10-01T00:00:00Z" : "");
            items.append(JSON.writeValueAsString(n)).append('\n');
        }
        String prefix = "inventory/";
        s3.putObject(
                r -> r.bucket(bucket).key(prefix + "AWS:InstanceInformation/" + where + "generated.json"),
                RequestBody.fromString(info.toString(), StandardCharsets.UTF_8));
        s3.putObject(
                r -> r.bucket(bucket).key(prefix + "AWS:ComplianceSummary/" + where + "generated.json"),
                RequestBody.fromString(summary.toString(), StandardCharsets.UTF_8));
        s3.putObject(
                r -> r.bucket(bucket).key(prefix + "AWS:ComplianceItem/" + where + "generated.json"),
                RequestBody.fromString(items.toString(), StandardCharsets.UTF_8));
    }

    private static ObjectNode base(String id) {
        ObjectNode n = JSON.createObjectNode();
        n.put("accountid", GENERATED);
        n.put("region", "us-east-1");
        n.put("resourcetype", "ManagedInstanceInventory");
        n.put("resourceid", id);
        n.put("capturetime", "2026-11-20T00:00:00Z");
        n.put("schemaversion", "1.0");
        return n;
    }

    private static void put(ObjectNode n, String field, String value) {
        if (value != null) n.put(field, value); // a missing field is NULL to both engines
    }

    /** Runs a report and returns the team's mail of it (the n-th such mail of this class). */
    private MimeMessage reportRun(int nth) {
        assertEquals(0, InProcessCli.run(local, "report", "run").exit());
        return teamMail(nth);
    }

    private MimeMessage teamMail(int nth) {
        return await().atMost(Duration.ofMinutes(10))
                .pollInterval(Duration.ofSeconds(1))
                .until(
                        () -> Arrays.stream(local.mail().getReceivedMessages())
                                .filter(m -> {
                                    try {
                                        return m.getSubject().contains("managed instances compliant");
                                    } catch (MessagingException e) {
                                        return false;
                                    }
                                })
                                .skip(nth - 1L)
                                .findFirst()
                                .orElse(null),
                        Objects::nonNull);
    }

    @Test
    @Order(1)
    void every_report_has_the_same_records_on_athena_as_on_duckdb() throws Exception {
        long t0 = System.nanoTime();
        reportRun(1);
        System.out.printf(
                "AthenaReportIT: report run through the local Athena: %.1f s%n", (System.nanoTime() - t0) / 1e9);

        // the Athena route really ran: its queries are in the local Athena, with their CSVs in the results bucket
        AthenaClient athena = local.aws().hub(AthenaClient.class);
        List<String> ids =
                athena.listQueryExecutions(r -> r.workGroup("patchpilot")).queryExecutionIds();
        assertTrue(ids.size() >= 8 + 3, "queries in the local Athena: " + ids);
        for (String id : ids)
            assertEquals(
                    QueryExecutionState.SUCCEEDED,
                    athena.getQueryExecution(r -> r.queryExecutionId(id))
                            .queryExecution()
                            .status()
                            .state());

        S3Client s3 = local.aws().hub(S3Client.class);
        ReportCatalog catalog = new ReportCatalog(Path.of("reports"), Map.of("stale_days", 0, "run_days", 30));
        Path out = Files.createDirectories(Path.of("target", "athena-parity"));
        List<String> differ = new ArrayList<>();
        long generatedRows = 0;
        try (DuckDbEngine duck =
                new DuckDbEngine(local.aws(), local.config().buckets().inventory(), "inventory")) {
            for (String report : catalog.names()) {
                String athenaCsv = s3.getObjectAsBytes(r ->
                                r.bucket(local.config().buckets().reports()).key("reports/latest/" + report + ".csv"))
                        .asUtf8String();
                Path duckFile = duck.query(catalog.query("parity", report));
                String duckCsv = Files.readString(duckFile);
                Files.delete(duckFile);
                Files.writeString(out.resolve(report + ".athena.csv"), athenaCsv);
                Files.writeString(out.resolve(report + ".duckdb.csv"), duckCsv);
                List<List<String>> a = Csv.records(athenaCsv);
                List<List<String>> d = Csv.records(duckCsv);
                if (!a.equals(d)) differ.add(report + " (" + a.size() + " vs " + d.size() + " records)");
                generatedRows += a.stream().filter(r -> r.contains(GENERATED)).count();
            }
        }
        assertEquals(List.of(), differ, "reports differing between Athena and DuckDB (both in target/athena-parity)");
        assertTrue(generatedRows > ITEMS, "the generated account is in the reports: " + generatedRows + " rows");
    }

    @Test
    @Order(2)
    void a_report_athena_rejects_ends_failed_with_athenas_reason_and_the_others_are_published() throws Exception {
        // the catalog loses a table: patch_run_outcomes cannot run, the other reports do not read it
        assertEquals(
                0,
                AwsCli.run(
                                local.localAws().endpoint(),
                                Map.of(),
                                "glue",
                                "delete-table",
                                "--database-name",
                                "patchpilot_inventory",
                                "--name",
                                "patch_runs")
                        .exitCode());
        // a report run is one per minute: a second request in the first's minute is that run, and says so
        Ledger ledger = new Ledger(local.aws(), local.config().ledgerTable());
        Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        String sameMinute = ReportRuns.reportId(minute, false, List.of(), List.of());
        if (ledger.get(ReportRuns.pk(sameMinute), ReportRuns.REPORT).isPresent()) {
            var again = InProcessCli.run(local, "report", "run");
            assertTrue(
                    again.exit() == 0 && again.err().contains(sameMinute + " was already requested this minute"),
                    "a second request within the minute names the earlier run: " + again.err());
            await().atMost(Duration.ofSeconds(70))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> Instant.now().truncatedTo(ChronoUnit.MINUTES).isAfter(minute));
        }
        var run = InProcessCli.run(local, "report", "run", "--follow");
        assertTrue(
                run.exit() != 0
                        && run.out().contains("patch_run_outcomes Failed: athena: query ")
                        && run.out().contains("TABLE_NOT_FOUND"),
                "the run is followed to Published, and fails naming the report and Athena's reason: " + run.out());
        MimeMessage team = teamMail(2);
        String reportId = team.getSubject().replaceAll("^\\[patchpilot] (report-[^:]+):.*$", "$1");
        String text = GreenMailUtil.getBody(team);
        assertTrue(
                text.contains("patch_run_outcomes: Failed") && text.contains("TABLE_NOT_FOUND"),
                "the mail names the failed report and Athena's reason: " + text);
        var failed = local.aws()
                .hub(DynamoDbClient.class)
                .getItem(r -> r.tableName(local.config().ledgerTable())
                        .key(Map.of(
                                "pk", AttributeValue.fromS(ReportRuns.pk(reportId)),
                                "sk", AttributeValue.fromS("FAILED#patch_run_outcomes"))))
                .item();
        assertEquals("Failed", failed.get("status").s());
        assertTrue(failed.get("reason").s().contains("TABLE_NOT_FOUND"), failed.toString());
        for (String other : List.of("compliance_by_account_region", "non_compliant_patches", "unmanaged_instances"))
            assertTrue(text.contains(other + ": "), other + " is still published: " + text);
        // the dashboard's report runs show it Failed with Athena's reason, the others Stored
        HttpResponse<String> page = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                        + local.config().http().port() + "/api/reports"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        JsonNode shown = null;
        for (JsonNode r : new ObjectMapper().readTree(page.body()).path("items"))
            if (r.path("reportId").asText().equals(reportId)) shown = r;
        assertTrue(shown != null, "/api/reports lists " + reportId + ": " + page.body());
        for (JsonNode r : shown.path("reports")) {
            boolean outcomes = r.path("name").asText().equals("patch_run_outcomes");
            assertEquals(outcomes ? "Failed" : "Stored", r.path("status").asText(), r.toString());
            if (outcomes) assertTrue(r.path("reason").asText().contains("TABLE_NOT_FOUND"), r.toString());
        }
        // nothing is left running in the local Athena
        AthenaClient athena = local.aws().hub(AthenaClient.class);
        for (String id :
                athena.listQueryExecutions(r -> r.workGroup("patchpilot")).queryExecutionIds()) {
            QueryExecutionState state = athena.getQueryExecution(r -> r.queryExecutionId(id))
                    .queryExecution()
                    .status()
                    .state();
            assertTrue(state == QueryExecutionState.SUCCEEDED || state == QueryExecutionState.FAILED, id + " " + state);
        }
    }
}
