package io.patchpilot.report;

/** One report: its name (the SQL file's) and the SQL with its parameters filled in. */
public record ReportQuery(String reportId, String name, String sql) {}
