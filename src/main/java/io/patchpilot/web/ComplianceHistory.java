package io.patchpilot.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.report.ReportRuns;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The compliance trend: each report run keeps its summary — compliant and non-compliant instances
 * per account, region and environment — in the ledger, partition {@code COMPLIANCE-HISTORY}, sort
 * key {@code <report's createdAt>#<reportId>#<part>} (2000 groups an item, well under DynamoDB's
 * 400 KB). Written by the report's publish step before it announces (a repeated delivery writes the
 * same items again); read by {@code /api/compliance/history?days=90}, one point per report run,
 * under the dashboard's filters.
 */
public final class ComplianceHistory {
    private static final Logger LOG = LoggerFactory.getLogger(ComplianceHistory.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String PK = "COMPLIANCE-HISTORY";
    static final int GROUPS_PER_ITEM = 2000;
    public static final int DAYS_DEFAULT = 90;
    public static final int DAYS_MAX = 3660;

    /** The instances of one account, region and environment at a report run. */
    public record Group(String account, String region, String environment, long compliant, long nonCompliant) {}

    /** One report run under a filter; {@code percentCompliant} is null when no instance matched. */
    public record Point(
            String reportId, String at, long instances, long compliant, long nonCompliant, Double percentCompliant) {}

    private final Ledger ledger;
    private final ComplianceSource source;
    private final Clock clock;

    public ComplianceHistory(Ledger ledger, ComplianceSource source, Clock clock) {
        this.ledger = ledger;
        this.source = source;
        this.clock = clock;
    }

    /**
     * Keeps the summary of a report run from the CSVs it stored (instance_list and
     * patch_compliance_report, as the dashboard reads them); a run that did not produce both
     * (reports chosen by the request) or was announced already keeps nothing new.
     */
    public void record(String reportId) {
        Map<String, AttributeValue> run =
                ledger.get(ReportRuns.pk(reportId), ReportRuns.REPORT).orElse(null);
        if (run == null || "Published".equals(Ledger.text(run, "status"))) return;
        Map<String, String> keys = new HashMap<>();
        for (Map<String, AttributeValue> i : ledger.partition(ReportRuns.pk(reportId))) {
            String sk = i.get("sk").s();
            if (sk.startsWith(ReportRuns.CSV_PREFIX))
                keys.put(sk.substring(ReportRuns.CSV_PREFIX.length()), Ledger.text(i, "key"));
        }
        if (!keys.containsKey("instance_list") || !keys.containsKey("patch_compliance_report")) {
            LOG.info("Report {}: no instance_list and patch_compliance_report; no compliance trend point", reportId);
            return;
        }
        List<Group> groups = groups(source.instances(keys.get("instance_list"), keys.get("patch_compliance_report")));
        ledger.putAll(items(reportId, Ledger.text(run, "createdAt"), groups));
        LOG.info(
                "Report {}: compliance trend point kept ({} account/region/environment groups)",
                reportId,
                groups.size());
    }

    /** The report runs of the last {@code days} days, oldest first, under the filter. */
    public List<Point> history(int days, Compliance.Filter filter) {
        Instant from = clock.instant().minus(Duration.ofDays(days));
        Map<String, List<Group>> byRun = new LinkedHashMap<>();
        Map<String, String> at = new HashMap<>();
        for (Map<String, AttributeValue> i : ledger.between(PK, from.toString(), "~")) {
            String run = Ledger.text(i, "reportId");
            at.put(run, Ledger.text(i, "at"));
            List<Group> gs = byRun.computeIfAbsent(run, r -> new ArrayList<>());
            read(Ledger.text(i, "groups"))
                    .forEach(g -> gs.add(new Group(
                            g.get(0).asText(),
                            g.get(1).asText(),
                            g.get(2).asText(),
                            g.get(3).asLong(),
                            g.get(4).asLong())));
        }
        List<Point> out = new ArrayList<>();
        byRun.forEach((run, gs) -> out.add(point(run, at.get(run), gs, filter)));
        return out;
    }

    /** Instances counted per (account, region, environment). */
    static List<Group> groups(List<Compliance.Instance> instances) {
        Map<List<String>, long[]> counts =
                new TreeMap<>((a, b) -> String.join("\u0000", a).compareTo(String.join("\u0000", b)));
        for (Compliance.Instance i : instances) {
            long[] c = counts.computeIfAbsent(List.of(i.account(), i.region(), i.environment()), k -> new long[2]);
            c[Compliance.NON_COMPLIANT.equals(i.status()) ? 1 : 0]++;
        }
        List<Group> out = new ArrayList<>();
        counts.forEach((k, c) -> out.add(new Group(k.get(0), k.get(1), k.get(2), c[0], c[1])));
        return out;
    }

    static Point point(String reportId, String at, List<Group> groups, Compliance.Filter filter) {
        long compliant = 0, nonCompliant = 0;
        for (Group g : groups) {
            if (!filter.matches(g.account(), g.region(), g.environment())) continue;
            compliant += g.compliant();
            nonCompliant += g.nonCompliant();
        }
        long n = compliant + nonCompliant;
        Double percent = n == 0 ? null : Math.round(1000.0 * compliant / n) / 10.0;
        return new Point(reportId, at, n, compliant, nonCompliant, percent);
    }

    static List<Map<String, AttributeValue>> items(String reportId, String at, List<Group> groups) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        int part = 0;
        do {
            ArrayNode a = JSON.createArrayNode();
            for (Group g : groups.subList(
                    Math.min(groups.size(), part * GROUPS_PER_ITEM),
                    Math.min(groups.size(), (part + 1) * GROUPS_PER_ITEM))) {
                a.addArray()
                        .add(g.account())
                        .add(g.region())
                        .add(g.environment())
                        .add(g.compliant())
                        .add(g.nonCompliant());
            }
            Map<String, AttributeValue> item = Ledger.item(PK, at + "#" + reportId + "#" + String.format("%04d", part));
            item.put("reportId", Ledger.s(reportId));
            item.put("at", Ledger.s(at));
            item.put("groups", Ledger.s(a.toString()));
            out.add(item);
            part++;
        } while (part * GROUPS_PER_ITEM < groups.size());
        return out;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("compliance history item is not JSON: " + e.getOriginalMessage());
        }
    }
}
