package io.patchpilot.bench;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.report.DuckDbEngine;
import io.patchpilot.report.ReportCatalog;
import io.patchpilot.report.ReportQuery;
import io.patchpilot.report.ReportRuns;
import io.patchpilot.report.ReportTables;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.transfer.s3.S3TransferManager;
import software.amazon.awssdk.transfer.s3.model.UploadFileRequest;

/**
 * {@code patchpilot bench --only report}: a million compliance items in the local inventory bucket,
 * the patch_compliance_report (one row per patch compliance item) run by the service the way a
 * scheduled report runs, next to DuckDB's own COPY of the same query over the same files.
 */
final class ReportBench {
    static final String REPORT = "patch_compliance_report";
    private static final List<String> REGIONS = List.of("us-east-1", "eu-west-1");
    private static final int ROUNDS = 3;
    /** patchpilot.report.inventory-prefix as config/application.properties sets it, which local mode keeps. */
    private static final String INVENTORY_PREFIX = "inventory";

    /** {@code accounts} × 2 regions × {@code instances} per account-region × {@code patches} per instance. */
    record Options(int accounts, int instances, int patches) {
        long items() {
            return (long) accounts * REGIONS.size() * instances * patches;
        }
    }

    private final Path home;
    private final Options o;

    ReportBench(Path home, Options o) {
        this.home = home;
        this.o = o;
    }

    List<BenchResult> run() throws Exception {
        try (LocalMode local = LocalMode.start(new LocalMode.Options(
                home,
                home.resolve("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--config-evaluation", "off"),
                Map.of()))) {
            String bucket = local.config().buckets().inventory();
            long genStart = System.nanoTime();
            long bytes = generate(local.aws().hub(S3Client.class), bucket, INVENTORY_PREFIX);
            System.err.printf(
                    "report: %,d compliance items (%d files, %.0f MiB) written to s3://%s in %.0f s%n",
                    o.items(),
                    o.accounts() * REGIONS.size(),
                    bytes / 1048576.0,
                    bucket,
                    (System.nanoTime() - genStart) / 1e9);

            var registry = local.service().camel().getRegistry();
            ReportRuns runs = registry.lookupByNameAndType("reportRuns", ReportRuns.class);
            DuckDbEngine engine = registry.lookupByNameAndType("duckDbEngine", DuckDbEngine.class);
            Ledger ledger = registry.lookupByNameAndType("ledger", Ledger.class);
            String sql = new ReportCatalog(home.resolve("reports"), Map.of("stale_days", 7, "run_days", 30))
                    .query("bench", REPORT)
                    .sql();

            // (a) the whole report as the service runs it: trigger -> collect -> download -> query -> store -> announce
            Heap.reset();
            Instant triggered = Instant.now();
            runs.start("{\"type\":\"report\",\"queries\":[\"" + REPORT + "\"]}");
            System.err.printf(
                    "report: trigger (the schedules route's step) took %.1f s%n",
                    Duration.between(triggered, Instant.now()).toNanos() / 1e9);
            String reportId = awaitPublished(local);
            var run = ledger.get("REPORT#" + reportId, "REPORT").orElseThrow();
            double total = Duration.between(
                                    triggered,
                                    Instant.parse(run.get("publishedAt").s()))
                            .toNanos()
                    / 1e9;
            double totalHeap = Heap.peakMiB();
            var csv = ledger.get("REPORT#" + reportId, "CSV#" + REPORT).orElseThrow();
            long rows = Long.parseLong(csv.get("rows").n());
            long csvBytes = Long.parseLong(csv.get("bytes").n());
            System.err.printf(
                    "report: %s published %,d rows (%.0f MiB CSV) %.1f s after the trigger, peak heap %.0f MiB%n",
                    reportId, rows, csvBytes / 1048576.0, total, totalHeap);
            if (rows < o.items())
                throw new IllegalStateException(
                        "the report has " + rows + " rows, fewer than the " + o.items() + " generated items");

            // baseline's files: a plain download of the same objects
            Path dir = Files.createTempDirectory("patchpilot-bench-raw-");
            try {
                long d0 = System.nanoTime();
                download(local.aws().hub(S3Client.class), bucket, dir);
                double rawDownload = (System.nanoTime() - d0) / 1e9;
                // the engine's fetch under a new report id, then (b) its parts next to the baseline's COPY, round after
                // round: on a shared machine the load changes by the minute, so each pair is measured side by side
                Heap.reset();
                String engineRun = reportId + "-parts";
                long f0 = System.nanoTime();
                Files.delete(engine.query(new ReportQuery(engineRun, REPORT, sql)));
                double fetchAndCopy = (System.nanoTime() - f0) / 1e9;
                List<Double> copies = new ArrayList<>();
                List<Double> stores = new ArrayList<>();
                List<Double> raws = new ArrayList<>();
                List<Double> uploads = new ArrayList<>();
                String reports = local.config().buckets().reports();
                try (S3AsyncClient byHand = AwsClients.s3Multipart(
                                        Region.of(local.config().hub().region()),
                                        StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")),
                                        local.config().endpoints().aws(),
                                        ClientOverrideConfiguration.builder())
                                .build();
                        S3TransferManager transfers =
                                S3TransferManager.builder().s3Client(byHand).build()) {
                    for (int i = 0; i < ROUNDS; i++) {
                        long t0 = System.nanoTime();
                        Path file = engine.query(new ReportQuery(engineRun, REPORT, sql)); // files loaded: COPY alone
                        long t1 = System.nanoTime();
                        runs.store(reportId, REPORT, file); // upload, S3 copy to latest/, row count
                        long t2 = System.nanoTime();
                        copies.add((t1 - t0) / 1e9);
                        stores.add((t2 - t1) / 1e9);
                        raws.add(rawCopy(sql, dir));
                        uploads.add(upload(transfers, reports, dir.resolve("raw.csv")));
                    }
                }
                double partsHeap = Heap.peakMiB();
                engine.close();
                double copy = median(copies);
                double store = median(stores);
                double rawCopy = median(raws);
                double queryUpload = median(sums(copies, stores));
                double byHandTotal = median(sums(raws, uploads));
                System.err.printf(
                        "report: %d rounds, COPY %s s, store %s s; by hand: raw COPY %s s, S3TransferManager upload %s s; "
                                + "fetch+COPY %.1f s, raw download %.1f s; parts peak heap %.0f MiB; load average %.2f%n",
                        ROUNDS,
                        copies,
                        stores,
                        raws,
                        uploads,
                        fetchAndCopy,
                        rawDownload,
                        partsHeap,
                        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("report", REPORT);
                extra.put("rows", rows);
                extra.put("csvBytes", csvBytes);
                extra.put("inventoryBytes", bytes);
                extra.put("rounds", ROUNDS);
                extra.put("copySeconds", copies);
                extra.put("storeSeconds", stores);
                extra.put("rawCopySeconds", raws);
                extra.put("byHandUploadSeconds", uploads);
                extra.put("fetchAndCopySeconds", fetchAndCopy);
                extra.put("rawDownloadSeconds", rawDownload);
                extra.put("peakHeapWholeReportMiB", totalHeap);
                extra.put("peakHeapPartsMiB", partsHeap);
                String size = String.format("%,d rows", rows);
                String raw = "DuckDB's own COPY of the same query to a local file (median of " + ROUNDS + ")";
                return List.of(
                        new BenchResult(
                                size + ": query, the engine's DuckDB COPY to a file (median of " + ROUNDS + ")",
                                "s",
                                copy,
                                raw,
                                rawCopy,
                                extra),
                        new BenchResult(
                                size + " -> CSV in S3: query + store (multipart upload, S3 copy to latest/, row count;"
                                        + " median of " + ROUNDS + ")",
                                "s",
                                queryUpload,
                                "by hand: DuckDB's own COPY to a file + that file uploaded by S3TransferManager"
                                        + " (parallel parts; median of " + ROUNDS + ")",
                                byHandTotal,
                                Map.of("storeSeconds", store, "target", 1.2)),
                        new BenchResult(
                                size
                                        + ": whole report run, trigger -> published (collect, fetch inventory, query, store)",
                                "s",
                                total,
                                "plain download of the same files + DuckDB's own COPY",
                                rawDownload + rawCopy,
                                Map.of()),
                        new BenchResult(
                                "peak heap during the report run and its parts",
                                "MiB",
                                Math.max(totalHeap, partsHeap),
                                "target",
                                512,
                                Map.of()));
            } finally {
                deleteTree(dir);
            }
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static List<Double> sums(List<Double> a, List<Double> b) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) out.add(a.get(i) + b.get(i));
        return out;
    }

    /** One file per account-region per table: few large objects, as a big sync's daily files would be. */
    private long generate(S3Client s3, String bucket, String prefix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Long>> puts = new ArrayList<>();
            for (int a = 0; a < o.accounts(); a++) {
                String account = String.format("9%011d", a + 1);
                for (String region : REGIONS) {
                    puts.add(pool.submit(() -> {
                        StringBuilder info = new StringBuilder();
                        StringBuilder items = new StringBuilder();
                        for (int i = 0; i < o.instances(); i++) {
                            info.append(GeneratedInventory.instanceInformation(account, region, i))
                                    .append('\n');
                            for (int p = 0; p < o.patches(); p++)
                                items.append(GeneratedInventory.complianceItem(account, region, i, p))
                                        .append('\n');
                        }
                        return put(
                                        s3,
                                        bucket,
                                        GeneratedInventory.key(
                                                prefix, "AWS:InstanceInformation", account, region, "bench"),
                                        info)
                                + put(
                                        s3,
                                        bucket,
                                        GeneratedInventory.key(prefix, "AWS:ComplianceItem", account, region, "bench"),
                                        items);
                    }));
                }
            }
            long bytes = 0;
            for (Future<Long> f : puts) bytes += f.get();
            return bytes;
        } finally {
            pool.shutdownNow();
        }
    }

    private static long put(S3Client s3, String bucket, String key, StringBuilder lines) {
        byte[] body = lines.toString().getBytes(StandardCharsets.UTF_8);
        s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body));
        return body.length;
    }

    /** The team mail names the report id; the ledger says when it was published. */
    private static String awaitPublished(LocalMode local) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
        while (System.nanoTime() < deadline) {
            for (MimeMessage m : local.mail().getReceivedMessages()) {
                if (m.getSubject().contains("managed instances compliant"))
                    return m.getSubject().replaceAll("^\\[patchpilot] (report-[^:]+):.*$", "$1");
            }
            LockSupport.parkNanos(50_000_000);
        }
        throw new IllegalStateException("the report was not published in 20 minutes");
    }

    /** The baseline's download: list and get, straight to files, one after another (as the engine does). */
    private static void download(S3Client s3, String bucket, Path dir) throws IOException {
        for (ReportTables.Table t : ReportTables.all(INVENTORY_PREFIX).values()) {
            for (var obj : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(t.prefix() + "/"))
                    .contents()) {
                if (!obj.key().endsWith(".json")) continue;
                Path target = dir.resolve(obj.key());
                Files.createDirectories(target.getParent());
                s3.getObject(r -> r.bucket(bucket).key(obj.key()), target);
            }
        }
    }

    /** What a user does by hand with the COPY's file: one S3TransferManager upload (parallel parts). */
    private static double upload(S3TransferManager transfers, String bucket, Path file) {
        long t0 = System.nanoTime();
        transfers
                .uploadFile(UploadFileRequest.builder()
                        .source(file)
                        .putObjectRequest(PutObjectRequest.builder()
                                .bucket(bucket)
                                .key("bench/by-hand/" + file.getFileName())
                                .contentType("text/csv")
                                .build())
                        .build())
                .completionFuture()
                .join();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double rawCopy(String sql, Path dir) throws Exception {
        Path out = dir.resolve("raw.csv");
        Files.deleteIfExists(out);
        try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
                Statement st = db.createStatement()) {
            for (String view : DuckDbEngine.views(ReportTables.all(INVENTORY_PREFIX), dir)) st.execute(view);
            long t0 = System.nanoTime();
            st.execute(DuckDbEngine.copy(sql, out));
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
