package io.patchpilot.service;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.tagging.ConfigEvents;
import io.patchpilot.tagging.ReconcileSweep;
import io.patchpilot.tagging.TagAudit;
import io.patchpilot.tagging.TagBatcher;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.tagging.TagWriter;
import io.patchpilot.windows.WindowDirectory;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** The business beans the routes refer to by name, wired once from configuration. */
public final class ServiceBeans {
    private ServiceBeans() {}

    public static Map<String, Object> create(Settings settings, PatchpilotConfig config, AwsClients aws) {
        Clock clock = Clock.systemUTC();
        Map<String, Object> beans = new LinkedHashMap<>();
        Organization organization = new Organization(aws, clock);
        Ledger ledger = new Ledger(aws, config.ledgerTable());
        WindowDirectory windows = new WindowDirectory(ledger, clock);
        TagPolicy policy = new TagPolicy(config.environments(), settings.optional("patchpilot.tagging.patch-group-key").orElse("PatchGroup"));
        TagWriter writer = new TagWriter(aws, policy, windows);
        TagAudit audit = new TagAudit(ledger, config.eventBus(), clock);
        beans.put("organization", organization);
        beans.put("ledger", ledger);
        beans.put("windowDirectory", windows);
        beans.put("tagPolicy", policy);
        beans.put("tagWriter", writer);
        beans.put("tagAudit", audit);
        beans.put("configEvents", new ConfigEvents(settings.requireList("patchpilot.tagging.config-rule-names"), organization));
        beans.put("tagBatcher", new TagBatcher(writer, audit, "direct:publish-tag-audit",
                settings.intOr("patchpilot.tagging.batch-size", 200, 1, 1000),
                settings.intOr("patchpilot.tagging.linger-ms", 50, 0, 5000),
                settings.intOr("patchpilot.tagging.max-in-flight", 2000, 1, 100_000),
                settings.intOr("patchpilot.tagging.workers", 16, 1, 256)));
        beans.put("messageTypes", new MessageTypes(Map.of(
                "schedules", java.util.List.of("reconcile"),
                "work", java.util.List.of("reconcile-item"))));
        beans.put("reconcileSweep", new ReconcileSweep(aws, organization, writer, audit, config, clock));
        return beans;
    }
}
