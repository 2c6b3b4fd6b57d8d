package io.patchpilot.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.notify.Notice;
import io.patchpilot.notify.Notifications;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * A compliance report run, as short steps: {@code report} (schedules) records the run once and
 * exports the recent patch runs; {@code report-collect} (one per account × region) snapshots the
 * EC2 instances SSM may not know; the last one queues {@code report-publish}, which runs each
 * report's SQL (DuckDB locally, Athena in AWS), stores the CSVs in S3 and announces them once.
 */
public final class ReportRuns {
    private static final Logger LOG = LoggerFactory.getLogger(ReportRuns.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter ID =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmm").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY =
            DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);
    public static final String REPORT = "REPORT";
    /** The ledger items of the reports a run has written: {@code CSV#<report>}. */
    public static final String CSV_PREFIX = "CSV#";
    /** A report whose query failed permanently, with the engine's reason; the other reports are still published. */
    public static final String FAILED_PREFIX = "FAILED#";
    /** The index of report runs (the dashboard's list): partition {@code REPORTS}, sort key {@code <createdAt>#<id>}. */
    public static final String INDEX = "REPORTS";

    /** Where things go and who hears of them. */
    public record Options(
            String engine,
            String inventoryBucket,
            String reportsBucket,
            String ownerTag,
            long attachMaxBytes,
            List<String> centralTeam,
            Map<String, String> accountContacts,
            String eventBus) {}

    /** Athena sees partitions Resource Data Sync added (new accounts, regions) only after a repair. */
    static final List<String> PARTITIONED =
            List.of("aws_instanceinformation", "aws_complianceitem", "aws_compliancesummary");

    private final AwsClients aws;
    private final Ledger ledger;
    private final Organization organization;
    private final List<String> regions;
    private final QueueSender work;
    private final ReportCatalog catalog;
    private final ReportFiles files;
    private final Notifications notifications;
    private final Options options;
    private final Clock clock;

    public ReportRuns(
            AwsClients aws,
            Ledger ledger,
            Organization organization,
            List<String> regions,
            QueueSender work,
            ReportCatalog catalog,
            ReportFiles files,
            Notifications notifications,
            Options options,
            Clock clock) {
        this.aws = aws;
        this.ledger = ledger;
        this.organization = organization;
        this.regions = List.copyOf(regions);
        this.work = work;
        this.catalog = catalog;
        this.files = files;
        this.notifications = notifications;
        this.options = options;
        this.clock = clock;
    }

    public static String pk(String reportId) {
        return "REPORT#" + reportId;
    }

    /**
     * The id of a report run: {@code report-20261207T1530} for the minute it was requested,
     * suffixed by a hash of the reports and recipients when the request chose them. The CLI
     * computes it too, to follow the run it requested.
     */
    public static String reportId(Instant requestedAt, boolean custom, List<String> queries, List<String> to) {
        return "report-" + ID.format(requestedAt)
                + (custom ? "-" + Integer.toHexString((queries + "|" + to).hashCode()) : "");
    }

    /**
     * {@code {"type":"report","queries":[…],"to":[…],"requestedAt":…}}: one report run per minute
     * ({@code requestedAt}'s, default the service's now) and request.
     */
    public void start(String body) {
        JsonNode m = JsonBodies.object(body);
        List<String> queries = catalog.select(strings(m, "queries"));
        List<String> to = strings(m, "to");
        for (String t : to)
            if (!t.matches("[^@\\s]+@[^@\\s]+")) throw new PermanentFailure("to: '" + t + "' is not a mail address");
        Instant now = clock.instant();
        Instant requestedAt = now;
        if (m.hasNonNull("requestedAt")) {
            try {
                requestedAt = Instant.parse(m.get("requestedAt").asText());
            } catch (DateTimeParseException e) {
                throw new PermanentFailure(
                        "requestedAt: '" + m.get("requestedAt").asText() + "' is not an ISO-8601 instant");
            }
            if (requestedAt.isAfter(now.plus(Duration.ofMinutes(5))))
                throw new PermanentFailure("requestedAt: " + requestedAt + " is in the future (now " + now + ")");
        }
        String reportId = reportId(requestedAt, m.has("queries") || m.has("to"), strings(m, "queries"), to);
        List<AccountRegion> scope = new ArrayList<>();
        for (String a : organization.activeAccounts()) for (String r : regions) scope.add(new AccountRegion(a, r));

        Map<String, AttributeValue> item = Ledger.item(pk(reportId), REPORT);
        item.put("reportId", Ledger.s(reportId));
        item.put("status", Ledger.s("Collecting"));
        item.put("queries", Ledger.s(JSON.valueToTree(queries).toString()));
        item.put("to", Ledger.s(JSON.valueToTree(to).toString()));
        item.put("createdAt", Ledger.s(now.toString()));
        item.put("collectTotal", AttributeValue.fromN(Integer.toString(scope.size())));
        item.put("collectDone", AttributeValue.fromN("0"));
        if (!ledger.putIfAbsent(item)) {
            String status = ledger.get(pk(reportId), REPORT)
                    .map(i -> i.get("status").s())
                    .orElse("");
            if (!status.equals("Collecting")) { // a repeated message; the report is further along
                Metrics.duplicateSuppressed("report", 1);
                LOG.info("Report {} exists ({}): report message acknowledged", reportId, status);
                return;
            }
        }
        Map<String, AttributeValue> index = Ledger.item(INDEX, Ledger.text(item, "createdAt") + "#" + reportId);
        index.put("reportId", Ledger.s(reportId));
        ledger.put(index);
        exportRuns(now);
        List<String> items = new ArrayList<>();
        for (AccountRegion t : scope) {
            items.add(JSON.createObjectNode()
                    .put("type", "report-collect")
                    .put("reportId", reportId)
                    .put("account", t.account())
                    .put("region", t.region())
                    .toString());
        }
        work.send(items);
        LOG.info("Report {}: collecting EC2 instances of {} account-regions for {}", reportId, items.size(), queries);
    }

    /** The recent patch runs from the ledger, as the patch_runs table reads them. */
    private void exportRuns(Instant now) {
        StringBuilder lines = new StringBuilder();
        for (Map<String, AttributeValue> index : ledger.partition(RunKeys.INDEX)) {
            if (Instant.parse(
                            index.get("sk").s().substring(0, index.get("sk").s().indexOf('#')))
                    .isBefore(now.minus(Duration.ofDays(400)))) continue;
            Optional<Map<String, AttributeValue>> run =
                    ledger.get(RunKeys.pk(index.get("runId").s()), RunKeys.RUN);
            if (run.isEmpty()) continue;
            Map<String, AttributeValue> r = run.get();
            JsonNode counts = r.containsKey("counts") ? read(r.get("counts").s()) : JSON.createObjectNode();
            ObjectNode row = JSON.createObjectNode()
                    .put("runid", r.get("runId").s())
                    .put("windowname", r.get("window").s())
                    .put("status", r.get("status").s())
                    .put("occurrence", r.get("occurrence").s())
                    .put("createdat", r.get("createdAt").s())
                    .put(
                            "finishedat",
                            r.containsKey("finishedAt") ? r.get("finishedAt").s() : null)
                    .put("succeeded", counts.path("Success").asInt())
                    .put(
                            "failed",
                            counts.path("Failed").asInt()
                                    + counts.path("TimedOut").asInt()
                                    + counts.path("Undeliverable").asInt()
                                    + counts.path("Cancelled").asInt())
                    .put("skipped", counts.path("Skipped").asInt())
                    .put(
                            "accountregions",
                            Integer.parseInt(r.get("targetsTotal").n()));
            lines.append(row).append('\n');
        }
        files.write(
                options.inventoryBucket(),
                ReportTables.RUNS_PREFIX + "/runs.json",
                lines.toString(),
                "application/x-ndjson");
    }

    /** {@code {"type":"report-collect","reportId","account","region"}}: the EC2 instances of one account-region. */
    @AwsActions("ec2:DescribeInstances")
    public void collect(String body) {
        JsonNode m = JsonBodies.object(body);
        String reportId = m.path("reportId").asText();
        AccountRegion target =
                new AccountRegion(m.path("account").asText(), m.path("region").asText());
        String marker = "COLLECT#" + target.account() + "#" + target.region();
        if (ledger.get(pk(reportId), marker).isPresent()) {
            LOG.info("Report {} {}: collected already, step acknowledged", reportId, target);
            Metrics.duplicateSuppressed("report-collect", 1);
            return;
        }
        StringBuilder lines = new StringBuilder();
        try {
            aws.member(Ec2Client.class, target, "report")
                    .describeInstancesPaginator(r -> r.maxResults(1000))
                    .reservations()
                    .forEach(res -> res.instances().forEach(i -> {
                        Map<String, String> tags = new HashMap<>();
                        i.tags().forEach(t -> tags.put(t.key(), t.value()));
                        lines.append(JSON.createObjectNode()
                                        .put("accountid", target.account())
                                        .put("region", target.region())
                                        .put("instanceid", i.instanceId())
                                        .put("name", tags.getOrDefault("Name", ""))
                                        .put("state", i.state().nameAsString())
                                        .put("environment", tags.getOrDefault("environment", ""))
                                        .put("owner", tags.getOrDefault(options.ownerTag(), ""))
                                        .put("platform", i.platformDetails())
                                        .put(
                                                "launchtime",
                                                i.launchTime() == null
                                                        ? null
                                                        : i.launchTime().toString()))
                                .append('\n');
                    }));
        } catch (RuntimeException e) {
            if (!AwsErrors.isDenied(e)
                    && !AwsErrors.code(e)
                            .map(c -> c.equals("OptInRequired") || c.equals("AuthFailure"))
                            .orElse(false)) throw e;
            LOG.warn(
                    "Report {} {}: no EC2 snapshot ({})",
                    reportId,
                    target,
                    AwsErrors.code(e).orElse(e.getClass().getSimpleName()));
        }
        files.write(
                options.inventoryBucket(),
                ReportTables.EC2_PREFIX + "/accountid=" + target.account() + "/region=" + target.region()
                        + "/instances.json",
                lines.toString(),
                "application/x-ndjson");
        if (!ledger.putIfAbsent(Ledger.item(pk(reportId), marker))) {
            LOG.info("Report {} {}: collected meanwhile by another delivery, step acknowledged", reportId, target);
            Metrics.duplicateSuppressed("report-collect", 1);
            return;
        }
        long done = ledger.increment(pk(reportId), REPORT, "collectDone", 1);
        long total = Long.parseLong(ledger.get(pk(reportId), REPORT)
                .orElseThrow()
                .get("collectTotal")
                .n());
        if (done == total)
            work.send(JSON.createObjectNode()
                    .put("type", "report-publish")
                    .put("reportId", reportId)
                    .toString());
    }

    public String idOf(String body) {
        return JsonBodies.object(body).path("reportId").asText();
    }

    /** The report's queries, once collecting is done (none when it was published already). */
    public List<ReportQuery> queries(String reportId) {
        Map<String, AttributeValue> run = ledger.get(pk(reportId), REPORT)
                .orElseThrow(() -> new PermanentFailure("reportId: " + reportId + " does not exist"));
        if (run.get("status").s().equals("Published")) {
            LOG.info("Report {} is published already: publish step acknowledged", reportId);
            Metrics.duplicateSuppressed("report-publish", 1);
            return List.of();
        }
        ledger.setIf(
                pk(reportId),
                REPORT,
                Map.of("status", Ledger.s("Querying")),
                "#st = :c",
                Map.of("#st", "status"),
                Map.of(":c", Ledger.s("Collecting")));
        List<ReportQuery> out = new ArrayList<>();
        if (options.engine().equals("athena")) {
            PARTITIONED.forEach(t -> out.add(new ReportQuery(reportId, "_repair_" + t, "MSCK REPAIR TABLE " + t)));
        }
        read(run.get("queries").s()).forEach(q -> out.add(catalog.query(reportId, q.asText())));
        return out;
    }

    /**
     * One report's CSV file (from the engine) to {@code reports/YYYY/MM/DD/<report>.csv}, copied
     * by S3 to {@code reports/latest/<report>.csv}; its records counted as the file streams by.
     * The file is deleted: it was the engine's temporary output.
     */
    public void store(String reportId, String name, Path csv) throws IOException {
        try {
            if (name.startsWith("_")) return; // a preparatory statement, not a report
            long start = System.nanoTime();
            Instant created = Instant.parse(ledger.get(pk(reportId), REPORT)
                    .orElseThrow()
                    .get("createdAt")
                    .s());
            String key = "reports/" + DAY.format(created) + "/" + name + ".csv";
            // counted while it uploads: both only read the file, and on a big report each takes seconds
            CompletableFuture<Long> records = CompletableFuture.supplyAsync(() -> records(csv));
            files.write(options.reportsBucket(), key, csv, "text/csv");
            long uploaded = System.nanoTime();
            files.copy(options.reportsBucket(), key, "reports/latest/" + name + ".csv");
            long copied = System.nanoTime();
            long rows = Math.max(0, records.join() - 1);
            Map<String, AttributeValue> item = Ledger.item(pk(reportId), CSV_PREFIX + name);
            item.put("rows", AttributeValue.fromN(Long.toString(rows)));
            item.put("bytes", AttributeValue.fromN(Long.toString(Files.size(csv))));
            item.put("key", Ledger.s(key));
            ledger.put(item);
            LOG.info(
                    "Report {}: {} stored ({} rows, {} bytes) in {} ms: upload {} ms, copy to latest/ {} ms",
                    reportId,
                    name,
                    rows,
                    Files.size(csv),
                    (System.nanoTime() - start) / 1_000_000,
                    (uploaded - start) / 1_000_000,
                    (copied - uploaded) / 1_000_000);
        } finally {
            Files.deleteIfExists(csv);
        }
    }

    /**
     * One report's query failed for good (bad SQL, a missing table, its time limit, a refused result
     * write): recorded with the engine's reason, so the run still publishes the others and says why.
     */
    public void failed(String reportId, String name, Exception reason) {
        String why = reason.getMessage() == null ? reason.getClass().getSimpleName() : reason.getMessage();
        LOG.warn("Report {}: {} Failed: {}", reportId, name, why);
        Map<String, AttributeValue> item = Ledger.item(pk(reportId), FAILED_PREFIX + name);
        item.put("status", Ledger.s("Failed"));
        item.put("reason", Ledger.s(why.length() > 2000 ? why.substring(0, 2000) : why));
        ledger.put(item);
    }

    private static long records(Path csv) {
        try (InputStream in = Files.newInputStream(csv)) {
            return CsvRecordCount.of(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mails, Slack and the owners' mails, once per report; returns the event announcing it. */
    public List<PutEventsRequest> announce(String reportId) {
        boolean first = ledger.setIf(
                pk(reportId),
                REPORT,
                Map.of(
                        "status",
                        Ledger.s("Published"),
                        "publishedAt",
                        Ledger.s(clock.instant().toString())),
                "#st = :q",
                Map.of("#st", "status"),
                Map.of(":q", Ledger.s("Querying")));
        if (!first) {
            LOG.info("Report {} was announced already: not announced again", reportId);
            return List.of();
        }
        Map<String, AttributeValue> run = ledger.get(pk(reportId), REPORT).orElseThrow();
        if (run.containsKey("createdAt"))
            Metrics.reportCompleted(
                    Duration.between(Instant.parse(run.get("createdAt").s()), clock.instant()));
        List<ReportMail.Stored> stored = new ArrayList<>();
        List<ReportMail.Linked> linked = new ArrayList<>();
        List<Notice.Attachment> attachments = new ArrayList<>();
        Map<String, String> csvKeys = new HashMap<>();
        List<ReportMail.Failed> failed = new ArrayList<>();
        for (Map<String, AttributeValue> i : ledger.partition(pk(reportId))) {
            if (i.get("sk").s().startsWith(FAILED_PREFIX))
                failed.add(new ReportMail.Failed(
                        i.get("sk").s().substring(FAILED_PREFIX.length()),
                        i.get("reason").s()));
            if (!i.get("sk").s().startsWith(CSV_PREFIX)) continue;
            String name = i.get("sk").s().substring(4);
            long bytes = Long.parseLong(i.get("bytes").n());
            String key = i.get("key").s();
            csvKeys.put(name, key);
            boolean attach = bytes <= options.attachMaxBytes();
            stored.add(new ReportMail.Stored(
                    name,
                    Long.parseLong(i.get("rows").n()),
                    bytes,
                    key,
                    attach ? null : files.link(options.reportsBucket(), key)));
            if (attach) attachments.add(new Notice.Attachment(name + ".csv", options.reportsBucket(), key));
            // Slack links every CSV (signing is local: no AWS call)
            linked.add(new ReportMail.Linked(
                    name, Long.parseLong(i.get("rows").n()), files.link(options.reportsBucket(), key)));
        }
        ReportMail.Headline headline = ReportMail.headline(
                rows(csvKeys.get("compliance_by_account_region")), rows(csvKeys.get("unmanaged_instances")));
        List<String> to = new ArrayList<>();
        read(run.get("to").s()).forEach(t -> to.add(t.asText()));
        Notice team = ReportMail.team(reportId, headline, stored, failed, to.isEmpty() ? options.centralTeam() : to);
        List<Notice> notices = new ArrayList<>();
        notices.add(ReportMail.withSlackPost(
                new Notice(team.subject(), team.text(), team.html(), team.mailTo(), true, attachments),
                reportId,
                headline,
                linked,
                clock.instant().plus(ReportFiles.LINK_VALIDITY)));
        if (to.isEmpty() && csvKeys.containsKey("owner_non_compliant")) {
            ReportMail.byOwner(rows(csvKeys.get("owner_non_compliant")), options.accountContacts())
                    .forEach((owner, rows) -> notices.add(ReportMail.owner(reportId, owner, rows)));
        }
        notifications.send(notices);
        LOG.info(
                "Report {} published: {} reports, {} failed, {} notices",
                reportId,
                stored.size(),
                failed.size(),
                notices.size());
        ObjectNode detail = JSON.createObjectNode()
                .put("reportId", reportId)
                .put("instances", headline.instances())
                .put("compliant", headline.compliant())
                .put("unmanaged", headline.unmanaged());
        ObjectNode reports = detail.putObject("reports");
        stored.forEach(s -> reports.put(s.name(), s.rows()));
        if (!failed.isEmpty()) {
            ObjectNode failures = detail.putObject("failed");
            failed.forEach(f -> failures.put(f.name(), f.reason()));
        }
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(options.eventBus())
                        .source("patchpilot")
                        .detailType("Compliance Report Published")
                        .detail(detail.toString())
                        .build())
                .build());
    }

    /**
     * The rows of a report the mails are built from (per account-region or per non-compliant
     * instance: bounded by the fleet, not by the patch items), parsed as the object streams in.
     */
    private List<Map<String, String>> rows(String key) {
        if (key == null) return List.of();
        try (Reader in = files.open(options.reportsBucket(), key)) {
            return Csv.rows(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> strings(JsonNode m, String field) {
        JsonNode v = m.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new PermanentFailure(field + ": must be a list of strings");
        List<String> out = new ArrayList<>();
        v.forEach(e -> out.add(e.asText()));
        return out;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
