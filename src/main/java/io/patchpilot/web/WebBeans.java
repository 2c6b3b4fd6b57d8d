package io.patchpilot.web;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.metrics.QueueMetrics;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** The dashboard's beans, named as routes/dashboard.camel.yaml refers to them. */
public final class WebBeans {
    private WebBeans() {}

    public static Map<String, Object> create(
            Settings settings,
            PatchpilotConfig config,
            AwsClients aws,
            Ledger ledger,
            WindowStore windows,
            Clock clock) {
        Map<String, Object> beans = new LinkedHashMap<>();
        ComplianceSource compliance = new ComplianceSource(
                aws,
                config.buckets().reports(),
                config.buckets().inventory(),
                clock,
                Duration.ofSeconds(settings.intOr("patchpilot.http.report-recheck-seconds", 15, 0, 3600)));
        ComplianceHistory history = new ComplianceHistory(ledger, compliance, clock);
        beans.put(
                "dashboardApi",
                new DashboardApi(
                        compliance,
                        history,
                        new RunsView(
                                aws,
                                ledger,
                                config.ledgerTable(),
                                new OutputLinks(aws, config.buckets().logs())),
                        new ReportRunsView(ledger, clock),
                        windows,
                        clock));
        beans.put("complianceHistory", history);
        beans.put("staticFiles", new StaticFiles());
        beans.put("webHeaderFilter", new WebHeaderFilter());
        beans.put("webMetrics", new Metrics());
        beans.put("queueMetrics", new QueueMetrics());
        beans.put("metricsRegistry", Metrics.registry());
        beans.put("accessGuard", AccessGuard.forBind(config.http().host(), settings.optional(AccessGuard.TOKEN_KEY)));
        return beans;
    }
}
