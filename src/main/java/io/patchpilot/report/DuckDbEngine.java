package io.patchpilot.report;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Local mode's query engine: DuckDB in this process over the very files Athena reads in AWS
 * (the inventory bucket), fetched once per report run into a work folder.
 */
public final class DuckDbEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DuckDbEngine.class);
    private final AwsClients aws;
    private final String bucket;
    private final Map<String, ReportTables.Table> tables;
    private String loadedReport;
    private Path dir;
    private Connection db;

    public DuckDbEngine(AwsClients aws, String bucket, String inventoryPrefix) {
        this.aws = aws;
        this.bucket = bucket;
        this.tables = ReportTables.all(inventoryPrefix);
    }

    /**
     * The query's result as a CSV file with a header line, written by DuckDB itself: the rows
     * never pass through this JVM's heap. The caller owns the file (and deletes it).
     */
    public synchronized Path query(ReportQuery q) throws SQLException, IOException {
        Connection c = connectionFor(q.reportId());
        Path out = Files.createTempFile("patchpilot-" + q.name() + "-", ".csv");
        long start = System.nanoTime();
        try (Statement st = c.createStatement()) {
            st.execute(copy(q.sql(), out));
            LOG.info(
                    "Report {}: {} written by DuckDB ({} bytes) in {} ms",
                    q.reportId(),
                    q.name(),
                    Files.size(out),
                    (System.nanoTime() - start) / 1_000_000);
        } catch (SQLException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        return out;
    }

    /** DuckDB's own export of a query's result to a CSV file with a header line. */
    public static String copy(String sql, Path out) {
        return "COPY (" + sql + ") TO '" + out + "' (FORMAT CSV, HEADER)";
    }

    private Connection connectionFor(String reportId) throws SQLException, IOException {
        if (reportId.equals(loadedReport) && db != null) return db;
        close();
        dir = Files.createTempDirectory("patchpilot-report-");
        download(reportId);
        db = DriverManager.getConnection("jdbc:duckdb:");
        try (Statement st = db.createStatement()) {
            for (String view : views(tables, dir)) st.execute(view);
        }
        loadedReport = reportId;
        return db;
    }

    @AwsActions(
            value = {"s3:ListBucket", "s3:GetObject"},
            principal = AwsActions.Principal.HUB)
    private void download(String reportId) throws IOException {
        S3Client s3 = aws.hub(S3Client.class);
        long start = System.nanoTime();
        long files = 0;
        long bytes = 0;
        for (ReportTables.Table t : tables.values()) {
            for (var o : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(t.prefix() + "/"))
                    .contents()) {
                if (!o.key().endsWith(".json")) continue;
                Path target = dir.resolve(o.key());
                Files.createDirectories(target.getParent());
                // straight to the file: an inventory file may be large (one per instance in AWS, far bigger when
                // generated)
                s3.getObject(r -> r.bucket(bucket).key(o.key()), target);
                files++;
                bytes += o.size();
            }
        }
        LOG.info(
                "Report {}: fetched {} inventory files ({} bytes) in {} ms",
                reportId,
                files,
                bytes,
                (System.nanoTime() - start) / 1_000_000);
    }

    /** The CREATE VIEW statements of the tables over their files under {@code dir} (the bucket's layout). */
    public static List<String> views(Map<String, ReportTables.Table> tables, Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, ReportTables.Table> t : tables.entrySet()) out.add(view(t.getKey(), t.getValue(), dir));
        return out;
    }

    /** A view over the table's newline-delimited JSON files, or an empty one with the same columns. */
    private static String view(String name, ReportTables.Table t, Path dir) throws IOException {
        Path root = dir.resolve(t.prefix());
        boolean files;
        try (Stream<Path> s = Files.exists(root) ? Files.walk(root) : Stream.empty()) {
            files = s.anyMatch(p -> p.toString().endsWith(".json"));
        }
        if (!files) {
            return "CREATE VIEW " + name + " AS SELECT "
                    + t.columns().entrySet().stream()
                            .map(e -> "CAST(NULL AS " + e.getValue() + ") AS " + e.getKey())
                            .collect(Collectors.joining(", "))
                    + " WHERE false";
        }
        String columns = t.columns().entrySet().stream()
                .map(e -> "'" + e.getKey() + "': '" + e.getValue() + "'")
                .collect(Collectors.joining(", "));
        return "CREATE VIEW " + name + " AS SELECT * FROM read_json('" + root
                + "/**/*.json', format = 'newline_delimited', columns = {" + columns + "})";
    }

    @Override
    public synchronized void close() {
        loadedReport = null;
        try {
            if (db != null) db.close();
        } catch (SQLException ignored) {
            // closing an in-memory database
        }
        db = null;
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dir = null;
        }
    }
}
