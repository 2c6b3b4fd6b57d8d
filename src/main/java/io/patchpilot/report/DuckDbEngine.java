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
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Local mode's query engine: DuckDB in this process over the very files Athena reads in AWS
 * (the inventory bucket), fetched once per report run into a work folder.
 */
public final class DuckDbEngine implements AutoCloseable {
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

    /** The query's result as CSV with a header line. */
    public synchronized String query(ReportQuery q) throws SQLException, IOException {
        Connection c = connectionFor(q.reportId());
        Path out = dir.resolve(q.name() + ".csv");
        try (Statement st = c.createStatement()) {
            st.execute("COPY (" + q.sql() + ") TO '" + out + "' (FORMAT CSV, HEADER)");
        }
        return Files.readString(out);
    }

    private Connection connectionFor(String reportId) throws SQLException, IOException {
        if (reportId.equals(loadedReport) && db != null) return db;
        close();
        dir = Files.createTempDirectory("patchpilot-report-");
        download();
        db = DriverManager.getConnection("jdbc:duckdb:");
        try (Statement st = db.createStatement()) {
            for (Map.Entry<String, ReportTables.Table> t : tables.entrySet()) st.execute(view(t.getKey(), t.getValue()));
        }
        loadedReport = reportId;
        return db;
    }

    @AwsActions(value = {"s3:ListBucket", "s3:GetObject"}, principal = AwsActions.Principal.HUB)
    private void download() throws IOException {
        S3Client s3 = aws.hub(S3Client.class);
        for (ReportTables.Table t : tables.values()) {
            for (var o : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(t.prefix() + "/")).contents()) {
                if (!o.key().endsWith(".json")) continue;
                Path target = dir.resolve(o.key());
                Files.createDirectories(target.getParent());
                Files.write(target, s3.getObjectAsBytes(r -> r.bucket(bucket).key(o.key())).asByteArray());
            }
        }
    }

    /** A view over the table's newline-delimited JSON files, or an empty one with the same columns. */
    private String view(String name, ReportTables.Table t) throws IOException {
        Path root = dir.resolve(t.prefix());
        boolean files;
        try (Stream<Path> s = Files.exists(root) ? Files.walk(root) : Stream.empty()) {
            files = s.anyMatch(p -> p.toString().endsWith(".json"));
        }
        if (!files) {
            return "CREATE VIEW " + name + " AS SELECT " + t.columns().entrySet().stream()
                    .map(e -> "CAST(NULL AS " + e.getValue() + ") AS " + e.getKey()).collect(Collectors.joining(", ")) + " WHERE false";
        }
        String columns = t.columns().entrySet().stream().map(e -> "'" + e.getKey() + "': '" + e.getValue() + "'").collect(Collectors.joining(", "));
        return "CREATE VIEW " + name + " AS SELECT * FROM read_json('" + root + "/**/*.json', format = 'newline_delimited', columns = {"
                + columns + "})";
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
        }
    }
}
