package io.patchpilot.report;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tables the reports read, as DuckDB sees the files locally; Athena sees the same files
 * through the Glue tables of deploy/cloudformation/hub.yaml (same names and columns).
 * Each entry: table → (S3 key prefix under the inventory bucket, column → DuckDB type).
 */
public final class ReportTables {
    private ReportTables() {}

    public record Table(String prefix, Map<String, String> columns) {}

    public static final String EC2_PREFIX = "ec2";
    public static final String RUNS_PREFIX = "runs";

    public static Map<String, Table> all(String inventoryPrefix) {
        Map<String, Table> t = new LinkedHashMap<>();
        t.put(
                "aws_instanceinformation",
                new Table(
                        inventoryPrefix + "/AWS:InstanceInformation",
                        columns(
                                "accountid",
                                "region",
                                "resourcetype",
                                "resourceid",
                                "capturetime",
                                "schemaversion",
                                "agenttype",
                                "agentversion",
                                "computername",
                                "instanceid",
                                "instancestatus",
                                "ipaddress",
                                "platformname",
                                "platformtype",
                                "platformversion")));
        t.put(
                "aws_complianceitem",
                new Table(
                        inventoryPrefix + "/AWS:ComplianceItem",
                        columns(
                                "accountid",
                                "region",
                                "resourcetype",
                                "resourceid",
                                "capturetime",
                                "schemaversion",
                                "compliancetype",
                                "executiontime",
                                "executiontype",
                                "executionid",
                                "id",
                                "title",
                                "status",
                                "severity",
                                "classification",
                                "patchseverity",
                                "patchstate",
                                "patchbaselineid",
                                "patchgroup",
                                "installedtime",
                                "documentname",
                                "documentversion")));
        Map<String, String> summary = columns(
                "accountid",
                "region",
                "resourcetype",
                "resourceid",
                "capturetime",
                "schemaversion",
                "compliancetype",
                "status",
                "overallseverity",
                "patchbaselineid",
                "patchgroup",
                "executiontime",
                "executiontype",
                "executionid");
        for (String state : new String[] {"compliant", "noncompliant"}) {
            for (String sev : new String[] {"critical", "high", "medium", "low", "informational", "unspecified"})
                summary.put(state + sev + "count", "INTEGER");
        }
        t.put("aws_compliancesummary", new Table(inventoryPrefix + "/AWS:ComplianceSummary", summary));
        t.put(
                "ec2_instances",
                new Table(
                        EC2_PREFIX,
                        columns(
                                "accountid",
                                "region",
                                "instanceid",
                                "name",
                                "state",
                                "environment",
                                "owner",
                                "platform",
                                "launchtime")));
        Map<String, String> runs = columns("runid", "windowname", "status", "occurrence", "createdat", "finishedat");
        for (String n : new String[] {"succeeded", "failed", "skipped", "accountregions"}) runs.put(n, "INTEGER");
        t.put("patch_runs", new Table(RUNS_PREFIX, runs));
        return t;
    }

    private static Map<String, String> columns(String... names) {
        Map<String, String> c = new LinkedHashMap<>();
        for (String n : names) c.put(n, "VARCHAR");
        return c;
    }
}
