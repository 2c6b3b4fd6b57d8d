package io.patchpilot.report;

import io.patchpilot.config.ConfigException;
import io.patchpilot.errors.PermanentFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The reports: one SQL file each in {@code reports/} (the same SQL on Athena and DuckDB), and the
 * views they share in {@code reports/views/}. Parameters are written {@code ${name}} and filled
 * with whole numbers only.
 */
public final class ReportCatalog {
    private static final Pattern VIEW = Pattern.compile(
            "CREATE\\s+(?:OR\\s+REPLACE\\s+)?VIEW\\s+\\w+\\s+AS\\s+(.*)", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern PARAMETER = Pattern.compile("\\$\\{([a-z_]+)}");
    private final Map<String, String> reports = new TreeMap<>();
    private final Map<String, String> views = new TreeMap<>();
    private final Map<String, Integer> parameters;

    public ReportCatalog(Path dir, Map<String, Integer> parameters) {
        this.parameters = Map.copyOf(parameters);
        read(dir, reports);
        read(dir.resolve("views"), views);
        if (reports.isEmpty()) throw new ConfigException(dir + ": no report SQL files found");
    }

    private static void read(Path dir, Map<String, String> into) {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".sql"))
                    .toList()) {
                into.put(f.getFileName().toString().replaceFirst("\\.sql$", ""), Files.readString(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> names() {
        return List.copyOf(reports.keySet());
    }

    /** The requested reports (all when empty); an unknown name is a permanent failure naming it. */
    public List<String> select(List<String> requested) {
        if (requested.isEmpty()) return names();
        for (String r : requested) {
            if (!reports.containsKey(r))
                throw new PermanentFailure("queries: '" + r + "' is not one of " + String.join(", ", names()));
        }
        return List.copyOf(requested);
    }

    /**
     * The report's SQL with the views it uses inlined as common table expressions, so the same
     * text runs on Athena (no view to create in the catalog first) and DuckDB.
     */
    public ReportQuery query(String reportId, String name) {
        String sql = fill(reports.get(name));
        StringBuilder with = new StringBuilder();
        for (Map.Entry<String, String> v : views.entrySet()) {
            if (!Pattern.compile("\\b" + v.getKey() + "\\b").matcher(sql).find()) continue;
            Matcher body = VIEW.matcher(fill(v.getValue()));
            if (!body.find())
                throw new ConfigException("reports/views/" + v.getKey() + ".sql: expected CREATE OR REPLACE VIEW "
                        + v.getKey() + " AS SELECT …");
            with.append(with.length() == 0 ? "WITH " : ", ")
                    .append(v.getKey())
                    .append(" AS (")
                    .append(body.group(1).trim())
                    .append(")");
        }
        if (with.length() == 0) return new ReportQuery(reportId, name, sql);
        Matcher own = Pattern.compile("^\\s*WITH\\s+", Pattern.CASE_INSENSITIVE).matcher(sql);
        return new ReportQuery(reportId, name, own.find() ? with + ", " + sql.substring(own.end()) : with + "\n" + sql);
    }

    String fill(String sql) {
        Matcher m = PARAMETER.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Integer v = parameters.get(m.group(1));
            if (v == null)
                throw new ConfigException("reports: parameter ${" + m.group(1) + "} has no value (patchpilot.report."
                        + m.group(1).replace('_', '-') + ")");
            m.appendReplacement(out, Integer.toString(v));
        }
        m.appendTail(out);
        return out.toString().trim().replaceAll(";\\s*$", "");
    }
}
