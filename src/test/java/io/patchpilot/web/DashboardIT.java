package io.patchpilot.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.local.LocalMode;
import io.patchpilot.report.Csv;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Local mode after a patch run of the Default window and a report run: the API answers with the
 * fleet's real numbers (the report's compliance_by_account_region.csv), /metrics shows the
 * activity, and headless Chromium renders the page's charts with those numbers and the run page
 * with the run's instances (screenshots in target/screenshots).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private final HttpClient http = HttpClient.newHttpClient();
    private LocalMode local;
    private String base;
    private String runId;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
        base = "http://127.0.0.1:" + local.config().http().port();
        runId = LocalFixture.tagAndPatchWithDefaultWindow(local);
        assertEquals(0, InProcessCli.run(local, "report", "run").exit());
        await().atMost(Duration.ofSeconds(120))
                .until(() -> !latestCsv("compliance_by_account_region").isEmpty());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    private String latestCsv(String report) {
        try {
            return local.aws()
                    .hub(S3Client.class)
                    .getObjectAsBytes(
                            r -> r.bucket(local.config().buckets().reports()).key("reports/latest/" + report + ".csv"))
                    .asUtf8String();
        } catch (NoSuchKeyException e) {
            return "";
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode api(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** The fleet's numbers as the report computed them: per account, [compliant, non-compliant]. */
    private Map<String, List<Long>> reportByAccount() {
        Map<String, List<Long>> out = new TreeMap<>();
        for (Map<String, String> row : Csv.rows(latestCsv("compliance_by_account_region"))) {
            out.merge(
                    row.get("accountid"),
                    List.of(Long.parseLong(row.get("compliant")), Long.parseLong(row.get("non_compliant"))),
                    (a, b) -> List.of(a.get(0) + b.get(0), a.get(1) + b.get(1)));
        }
        return out;
    }

    private static Map<String, List<Long>> apiByAccount(JsonNode compliance) {
        Map<String, List<Long>> out = new TreeMap<>();
        compliance
                .path("byAccount")
                .properties()
                .forEach(e -> out.put(
                        e.getKey(),
                        List.of(
                                e.getValue().path("compliant").asLong(),
                                e.getValue().path("nonCompliant").asLong())));
        return out;
    }

    @Test
    void the_reports_api_lists_the_report_run_with_each_report_stored_and_its_rows() throws Exception {
        await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> api("/api/reports")
                                .path("items")
                                .path(0)
                                .path("status")
                                .asText(),
                        "Published"::equals);
        JsonNode run = api("/api/reports?limit=1").path("items").get(0);
        assertTrue(run.path("reportId").asText().startsWith("report-"), run.toString());
        assertTrue(!run.path("publishedAt").isNull(), run.toString());
        Map<String, Long> rows = new TreeMap<>();
        for (JsonNode r : run.path("reports")) {
            assertEquals("Stored", r.path("status").asText(), r.toString());
            rows.put(r.path("name").asText(), r.path("rows").asLong());
        }
        assertEquals(
                (long) Csv.rows(latestCsv("compliance_by_account_region")).size(),
                rows.get("compliance_by_account_region"),
                "rows as the stored CSV has them: " + run);
        assertEquals(400, get("/api/reports?limit=0").statusCode());
    }

    @Test
    void the_compliance_api_answers_with_the_reports_numbers_and_filters() throws Exception {
        JsonNode all = api("/api/compliance");
        Map<String, List<Long>> expected = reportByAccount();
        assertEquals(expected, apiByAccount(all));
        long instances =
                expected.values().stream().mapToLong(v -> v.get(0) + v.get(1)).sum();
        assertEquals(instances, all.path("instances").asLong());
        assertEquals(Csv.rows(latestCsv("instance_list")).size(), instances);
        assertEquals(
                expected.values().stream().mapToLong(v -> v.get(1)).sum(),
                all.path("byStatus").path("NON_COMPLIANT").asLong());
        long platforms = 0;
        for (JsonNode n : all.path("byPlatform")) platforms += n.asLong();
        assertEquals(instances, platforms);
        assertTrue(
                all.path("environments").toString().contains("Prod"),
                all.path("environments").toString());

        String account = expected.keySet().iterator().next();
        JsonNode one = api("/api/compliance?account=" + account);
        assertEquals(
                expected.get(account).get(0) + expected.get(account).get(1),
                one.path("instances").asLong());
        assertEquals(Set.of(account), fieldNames(one.path("byAccount")));
        JsonNode prod = api("/api/compliance?environment=Prod");
        assertEquals(Set.of("Prod"), fieldNames(prod.path("byEnvironment")));
    }

    @Test
    void the_compliance_history_has_one_point_per_report_run_with_the_reports_numbers_under_the_filters()
            throws Exception {
        Map<String, List<Long>> expected = reportByAccount();
        JsonNode all = api("/api/compliance/history?days=90");
        assertEquals(90, all.path("days").asInt());
        assertEquals(1, all.path("points").size(), all.toString());
        JsonNode p = all.path("points").get(0);
        assertTrue(p.path("reportId").asText().startsWith("report-"), p.toString());
        long compliant = expected.values().stream().mapToLong(v -> v.get(0)).sum();
        long nonCompliant = expected.values().stream().mapToLong(v -> v.get(1)).sum();
        assertEquals(
                List.of(compliant, nonCompliant),
                List.of(p.path("compliant").asLong(), p.path("nonCompliant").asLong()));
        assertEquals(
                Math.round(1000.0 * compliant / (compliant + nonCompliant)) / 10.0,
                p.path("percentCompliant").asDouble());
        // the same filters as /api/compliance
        for (String account : expected.keySet()) {
            JsonNode one = api("/api/compliance/history?days=90&account=" + account)
                    .path("points")
                    .get(0);
            assertEquals(
                    expected.get(account),
                    List.of(
                            one.path("compliant").asLong(),
                            one.path("nonCompliant").asLong()));
        }
        JsonNode prod = api("/api/compliance?environment=Prod");
        JsonNode prodPoint =
                api("/api/compliance/history?environment=Prod").path("points").get(0);
        assertEquals(
                prod.path("instances").asLong(), prodPoint.path("instances").asLong());
        HttpResponse<String> bad = get("/api/compliance/history?days=0");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("days: 0 is not between 1 and"), bad.body());
    }

    private static Set<String> fieldNames(JsonNode n) {
        Set<String> s = new HashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    @Test
    void the_runs_api_pages_newest_first_and_shows_a_run_with_its_instances() throws Exception {
        JsonNode page = api("/api/runs?limit=1");
        assertEquals(1, page.path("items").size());
        List<String> seen = new ArrayList<>();
        seen.add(page.path("items").get(0).path("runId").asText());
        while (!page.path("nextCursor").isNull()) {
            page = api("/api/runs?limit=1&cursor=" + page.path("nextCursor").asText());
            page.path("items").forEach(i -> seen.add(i.path("runId").asText()));
        }
        assertTrue(seen.contains(runId), seen.toString());
        assertEquals(400, get("/api/runs?limit=0").statusCode());
        assertEquals(400, get("/api/runs?cursor=***").statusCode());

        JsonNode run = api("/api/runs/" + runId);
        assertEquals(runId, run.path("runId").asText());
        assertTrue(run.path("counts").path("Success").asLong() > 0, run.toString());
        long instances = 0;
        for (JsonNode t : run.path("targets")) instances += t.path("instances").size();
        long counted = 0;
        for (String k : List.of("Success", "Failed", "TimedOut", "Skipped", "Cancelled", "Undeliverable"))
            counted += run.path("counts").path(k).asLong();
        assertEquals(counted, instances);
        assertEquals(404, get("/api/runs/Nope-20200101T0000Z").statusCode());
    }

    /** The API's trend points as [time, % compliant] (those with instances). */
    private static List<List<Object>> trendOf(JsonNode history) {
        List<List<Object>> out = new ArrayList<>();
        for (JsonNode p : history.path("points"))
            if (!p.path("percentCompliant").isNull())
                out.add(List.of(
                        p.path("at").asText(), p.path("percentCompliant").asDouble()));
        return out;
    }

    /** What the trend chart draws, read back from ECharts. */
    private static List<List<Object>> trendDrawn(JavascriptExecutor js) {
        List<?> data = (List<?>) js.executeScript(
                "return echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption().series[0].data;");
        List<List<Object>> out = new ArrayList<>();
        for (Object d : data) {
            List<?> xy = (List<?>) d;
            out.add(List.of(xy.get(0), ((Number) xy.get(1)).doubleValue()));
        }
        return out;
    }

    /**
     * The failed instance's row carries the last lines of its output and where all of it is; each
     * AutoScaling group's AMI pipeline is its steps, with the API's statuses and times.
     */
    private static void theRunPageShowsAFailuresOutputAndTheGroupsSteps(ChromeDriver browser, JsonNode run)
            throws Exception {
        JsonNode failed = null;
        for (JsonNode t : run.path("targets"))
            for (JsonNode i : t.path("instances")) if (i.path("status").asText().equals("Failed")) failed = i;
        assertTrue(failed != null, "the default fleet has a failing instance: " + run);
        WebElement row = browser.findElement(By.cssSelector(
                "#instances tr[data-instance-id='" + failed.path("instanceId").asText() + "']"));
        String rowText = row.getAttribute("textContent");
        List<String> tail = failed.path("outputTail").asText().lines().toList();
        assertTrue(!tail.isEmpty(), failed.toString());
        assertEquals(
                failed.path("outputTail").asText(),
                row.findElement(By.cssSelector("pre.output-tail")).getAttribute("textContent"));
        assertTrue(rowText.contains(failed.path("outputLocation").asText()), rowText);
        assertTrue(rowText.contains(failed.path("commandId").asText()), rowText);
        // the full output, through the pre-signed links the page offers (the API's, for this run only)
        List<WebElement> links = row.findElements(By.cssSelector("a.output-link"));
        assertEquals(failed.path("outputLinks").size(), links.size(), failed.toString());
        assertTrue(!links.isEmpty(), failed.toString());
        StringBuilder full = new StringBuilder();
        for (WebElement a : links) {
            HttpResponse<String> file = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(a.getAttribute("href")))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, file.statusCode(), a.getAttribute("href"));
            full.append(file.body());
        }
        assertTrue(full.toString().contains(tail.get(tail.size() - 1)), full.toString());

        assertTrue(run.path("groups").size() > 0, run.toString());
        for (JsonNode g : run.path("groups")) {
            WebElement box = browser.findElement(By.cssSelector(
                    "#groups .group[data-group='" + g.path("group").asText() + "']"));
            assertTrue(box.getText().contains(g.path("state").asText()), box.getText());
            List<WebElement> rows = box.findElements(By.cssSelector("table.pipeline tbody tr"));
            assertEquals(g.path("steps").size(), rows.size(), g.toString());
            for (int k = 0; k < rows.size(); k++) {
                JsonNode step = g.path("steps").get(k);
                List<WebElement> cells = rows.get(k).findElements(By.tagName("td"));
                assertEquals(step.path("name").asText(), cells.get(0).getText());
                assertEquals(step.path("status").asText(), cells.get(1).getText());
                assertEquals(step.path("startedAt").asText(""), cells.get(2).getText());
                assertEquals(step.path("endedAt").asText(""), cells.get(3).getText());
            }
            assertTrue(!box.getText().contains("token"), box.getText());
        }
    }

    @Test
    void the_windows_api_lists_the_default_window_with_its_next_opening() throws Exception {
        JsonNode w = api("/api/windows");
        JsonNode d = null;
        for (JsonNode i : w.path("items")) if (i.path("name").asText().equals("Default_maintenance_window")) d = i;
        assertTrue(d != null, w.toString());
        assertEquals(
                WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                        .orElseThrow()
                        .toString(),
                d.path("nextOpening").asText());
    }

    @Test
    void metrics_show_the_activity_with_labels_and_health_answers() throws Exception {
        // a message that can never succeed goes to the schedules DLQ, and is counted there
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "not json");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> get("/metrics")
                        .body()
                        .contains("patchpilot_messages_dead_lettered_total{queue=\"patchpilot-schedules\"} 1.0"));
        // the report's announcement (which records its duration) may follow its CSVs by a moment
        HttpResponse<String> m = await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> get("/metrics"),
                        r -> r.statusCode() == 200 && r.body().contains("patchpilot_report_duration_seconds_count"));
        for (String s : List.of(
                "patchpilot_messages_consumed_total{queue=\"patchpilot-schedules\"}",
                "patchpilot_messages_consumed_total{queue=\"patchpilot-work\"}",
                "patchpilot_aws_calls_total{service=\"DynamoDb\"}",
                "patchpilot_aws_calls_total{service=\"Ssm\"}",
                "patchpilot_run_duration_seconds_count{status=",
                "patchpilot_instances_patched_total",
                "patchpilot_report_duration_seconds_count")) {
            assertTrue(m.body().contains(s), s + " in\n" + m.body());
        }
        assertEquals(200, get("/health").statusCode());
        assertEquals(200, get("/health/ready").statusCode());
        assertEquals(200, get("/health/live").statusCode());
    }

    @Test
    void the_browser_renders_the_charts_with_the_fleets_numbers_and_the_run_page_lists_its_instances()
            throws Exception {
        assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "browser test skipped: /usr/bin/chromium and /usr/bin/chromedriver are needed (apt-get install -y chromium chromium-driver)");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions()
                .setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800");
        ChromeDriver browser = new ChromeDriver(service, options);
        try {
            Path shots = Files.createDirectories(Path.of("target", "screenshots"));
            browser.get(base + "/");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> "true"
                                    .equals(browser.findElement(By.tagName("body"))
                                            .getAttribute("data-loaded"))
                            || browser.findElement(By.tagName("body")).getAttribute("data-error") != null);
            assertEquals(null, browser.findElement(By.tagName("body")).getAttribute("data-error"));
            JavascriptExecutor js = browser;
            // the donut's data and the account bars, read back from ECharts
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> donut = (List<Map<String, Object>>) js.executeScript(
                    "return echarts.getInstanceByDom(document.getElementById('chart-status')).getOption().series[0].data"
                            + ".map(d => ({name: d.name, value: d.value}));");
            Map<String, List<Long>> expected = reportByAccount();
            Map<String, Long> status = new TreeMap<>();
            donut.forEach(d -> status.put((String) d.get("name"), ((Number) d.get("value")).longValue()));
            long nonCompliant =
                    expected.values().stream().mapToLong(v -> v.get(1)).sum();
            long compliant = expected.values().stream().mapToLong(v -> v.get(0)).sum();
            Map<String, Long> want = new TreeMap<>(Map.of("COMPLIANT", compliant));
            if (nonCompliant > 0) want.put("NON_COMPLIANT", nonCompliant);
            assertEquals(want, status);
            @SuppressWarnings("unchecked")
            Map<String, Object> bars = (Map<String, Object>)
                    js.executeScript(
                            "const o = echarts.getInstanceByDom(document.getElementById('chart-account')).getOption();"
                                    + "return {accounts: o.yAxis[0].data, compliant: o.series[0].data, nonCompliant: o.series[1].data};");
            Map<String, List<Long>> rendered = new TreeMap<>();
            List<?> accounts = (List<?>) bars.get("accounts");
            for (int i = 0; i < accounts.size(); i++) {
                rendered.put(
                        (String) accounts.get(i),
                        List.of(
                                ((Number) ((List<?>) bars.get("compliant")).get(i)).longValue(),
                                ((Number) ((List<?>) bars.get("nonCompliant")).get(i)).longValue()));
            }
            assertEquals(expected, rendered);
            assertEquals(
                    Long.toString(compliant + nonCompliant),
                    browser.findElement(By.id("total")).getText());
            // a canvas was drawn for every chart
            assertEquals(6L, js.executeScript("return document.querySelectorAll('.chart canvas').length;"));
            assertEquals(trendOf(api("/api/compliance/history?days=90")), trendDrawn(js));
            assertEquals("1", browser.findElement(By.tagName("body")).getAttribute("data-trend-points"));
            assertTrue(browser.findElement(By.id("runs")).getText().contains(runId));
            Files.write(shots.resolve("dashboard.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

            browser.findElement(By.linkText(runId)).click();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> "true"
                            .equals(browser.findElement(By.tagName("body")).getAttribute("data-loaded")));
            JsonNode run = api("/api/runs/" + runId);
            Set<String> expectedIds = new HashSet<>();
            run.path("targets")
                    .forEach(t -> t.path("instances")
                            .forEach(i -> expectedIds.add(i.path("instanceId").asText())));
            Set<String> listed = new HashSet<>();
            for (WebElement row : browser.findElements(By.cssSelector("#instances tbody tr")))
                listed.add(row.getAttribute("data-instance-id"));
            assertTrue(!expectedIds.isEmpty());
            assertEquals(expectedIds, listed);
            // the page's figures are the API's (one model), the window by the name people know
            JsonNode f = run.path("figures");
            assertEquals(
                    f.path("accountRegionsDone").asLong() + " of "
                            + f.path("accountRegionsTotal").asLong() + " done",
                    browser.findElement(By.cssSelector("[data-figure='account-regions']"))
                            .getText());
            assertTrue(f.path("accountRegionsDone").asLong()
                    <= f.path("accountRegionsTotal").asLong());
            String summary = browser.findElement(By.id("run-summary")).getText();
            assertTrue(summary.contains("Default_maintenance_window (organization)"), summary);
            assertTrue(!summary.contains("*#"), summary);
            // instance outcomes and AutoScaling group outcomes, each on its own line, the API's counts
            Map<String, Long> outcomes = new TreeMap<>();
            f.path("instances")
                    .properties()
                    .forEach(e -> outcomes.put(e.getKey(), e.getValue().asLong()));
            assertEquals(
                    String.join(
                            ", ",
                            outcomes.entrySet().stream()
                                    .map(e -> e.getKey() + " " + e.getValue())
                                    .toList()),
                    browser.findElement(By.cssSelector("[data-figure='instances']"))
                            .getText());
            assertTrue(f.path("groups").path("Refreshed").asLong() >= 1, f.toString());
            assertTrue(
                    browser.findElement(By.cssSelector("[data-figure='AutoScaling groups']"))
                            .getText()
                            .contains("Refreshed "
                                    + f.path("groups").path("Refreshed").asLong()),
                    f.toString());
            theRunPageShowsAFailuresOutputAndTheGroupsSteps(browser, run);
            Files.write(shots.resolve("run.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

            // a shared view: the filters come from the URL, and choosing one writes it back
            browser.get(base + "/?environment=Prod");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> "true"
                            .equals(browser.findElement(By.tagName("body")).getAttribute("data-loaded")));
            assertEquals(
                    "Prod",
                    new Select(browser.findElement(By.name("environment")))
                            .getFirstSelectedOption()
                            .getAttribute("value"));
            assertEquals(
                    api("/api/compliance?environment=Prod").path("instances").asText(),
                    browser.findElement(By.id("total")).getText());
            assertEquals(trendOf(api("/api/compliance/history?days=90&environment=Prod")), trendDrawn(js));
            String account = reportByAccount().keySet().iterator().next();
            new Select(browser.findElement(By.name("account"))).selectByValue(account);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> browser.getCurrentUrl().contains("account=" + account)
                            && browser.getCurrentUrl().contains("environment=Prod")
                            && trendDrawn(js)
                                    .equals(trendOf(api(
                                            "/api/compliance/history?days=90&environment=Prod&account=" + account))));
            Files.write(
                    shots.resolve("dashboard-filtered.png"),
                    ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        } finally {
            browser.quit();
        }
    }
}
