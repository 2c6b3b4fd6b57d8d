package io.patchpilot.web;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The dashboard's compliance numbers, from the latest report CSVs: one row per managed instance
 * (instance_list) with its patch status (NON_COMPLIANT when any patch_compliance_report item of
 * it is, else COMPLIANT — as compliance_by_account_region counts) and its environment tag from
 * the report run's EC2 snapshot. Pure: no AWS, no Camel.
 */
public final class Compliance {
    public static final String COMPLIANT = "COMPLIANT";
    public static final String NON_COMPLIANT = "NON_COMPLIANT";
    public static final String NO_ENVIRONMENT = "(none)";

    private Compliance() {}

    public record Instance(
            String account, String region, String instanceId, String platform, String status, String environment) {}

    /** Empty or null values match everything. */
    public record Filter(String account, String region, String environment) {
        boolean matches(Instance i) {
            return matches(i.account(), i.region(), i.environment());
        }

        boolean matches(String account, String region, String environment) {
            return ok(this.account, account) && ok(this.region, region) && ok(this.environment, environment);
        }

        private static boolean ok(String wanted, String actual) {
            return wanted == null || wanted.isBlank() || wanted.equals(actual);
        }
    }

    /** Counts per group: compliant, non-compliant, total. */
    public record Counts(long compliant, long nonCompliant) {
        public long total() {
            return compliant + nonCompliant;
        }

        Counts plus(String status) {
            return NON_COMPLIANT.equals(status)
                    ? new Counts(compliant, nonCompliant + 1)
                    : new Counts(compliant + 1, nonCompliant);
        }
    }

    /** What the page shows; the option lists are the whole fleet's, so a filter can be changed back. */
    public record Summary(
            long instances,
            Map<String, Long> byPlatform,
            Map<String, Long> byStatus,
            Map<String, Counts> byAccount,
            Map<String, Counts> byEnvironment,
            Map<String, Counts> byRegion,
            List<String> accounts,
            List<String> regions,
            List<String> environments) {}

    /** Joins the three sources by (account, region, instance id) / instance id. */
    public static List<Instance> join(
            List<Map<String, String>> instanceList,
            List<Map<String, String>> patchCompliance,
            List<Map<String, String>> ec2Snapshot) {
        Map<String, String> status = new HashMap<>();
        for (Map<String, String> r : patchCompliance) {
            String k = key(r.get("accountid"), r.get("region"), r.get("resourceid"));
            if (NON_COMPLIANT.equals(r.get("status"))) status.put(k, NON_COMPLIANT);
            else status.putIfAbsent(k, COMPLIANT);
        }
        Map<String, String> environment = new HashMap<>();
        for (Map<String, String> r : ec2Snapshot) {
            String env = r.getOrDefault("environment", "");
            if (r.get("instanceid") != null && env != null && !env.isBlank()) environment.put(r.get("instanceid"), env);
        }
        List<Instance> out = new ArrayList<>();
        for (Map<String, String> r : instanceList) {
            String id = r.get("resourceid");
            String platform = r.getOrDefault("platformtype", "");
            out.add(new Instance(
                    r.get("accountid"),
                    r.get("region"),
                    id,
                    platform == null || platform.isBlank() ? "Unknown" : platform,
                    status.getOrDefault(key(r.get("accountid"), r.get("region"), id), COMPLIANT),
                    environment.getOrDefault(id, NO_ENVIRONMENT)));
        }
        return out;
    }

    public static Summary summarize(List<Instance> all, Filter filter) {
        Map<String, Long> byPlatform = new TreeMap<>();
        Map<String, Long> byStatus = new TreeMap<>();
        Map<String, Counts> byAccount = new TreeMap<>();
        Map<String, Counts> byEnvironment = new TreeMap<>();
        Map<String, Counts> byRegion = new TreeMap<>();
        TreeSet<String> accounts = new TreeSet<>();
        TreeSet<String> regions = new TreeSet<>();
        TreeSet<String> environments = new TreeSet<>();
        long n = 0;
        for (Instance i : all) {
            accounts.add(i.account());
            regions.add(i.region());
            environments.add(i.environment());
            if (!filter.matches(i)) continue;
            n++;
            byPlatform.merge(i.platform(), 1L, Long::sum);
            byStatus.merge(i.status(), 1L, Long::sum);
            byAccount.merge(i.account(), new Counts(0, 0).plus(i.status()), (a, b) -> a.plus(i.status()));
            byEnvironment.merge(i.environment(), new Counts(0, 0).plus(i.status()), (a, b) -> a.plus(i.status()));
            byRegion.merge(i.region(), new Counts(0, 0).plus(i.status()), (a, b) -> a.plus(i.status()));
        }
        return new Summary(
                n,
                byPlatform,
                byStatus,
                byAccount,
                byEnvironment,
                byRegion,
                List.copyOf(accounts),
                List.copyOf(regions),
                List.copyOf(environments));
    }

    private static String key(String account, String region, String id) {
        return account + "#" + region + "#" + id;
    }
}
