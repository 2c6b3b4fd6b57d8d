package io.patchpilot.service;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.errors.SqsAcknowledger;
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
import java.util.List;
import java.util.Map;

/** The business beans the routes refer to by name, wired once from configuration. */
public final class ServiceBeans {
    private ServiceBeans() {}

    /** The tagging core, shared by the service and the operator CLI (which needs no consumers). */
    public record Tagging(
            Organization organization,
            Ledger ledger,
            WindowDirectory windows,
            TagPolicy policy,
            TagWriter writer,
            TagAudit audit,
            QueueSender work,
            ReconcileSweep sweep) {}

    public static Tagging tagging(Settings settings, PatchpilotConfig config, AwsClients aws, Clock clock) {
        Organization organization = new Organization(aws, clock);
        Ledger ledger = new Ledger(aws, config.ledgerTable());
        WindowDirectory windows = new WindowDirectory(ledger, clock);
        TagPolicy policy = new TagPolicy(
                config.environments(),
                settings.optional("patchpilot.tagging.patch-group-key").orElse("PatchGroup"));
        TagWriter writer = new TagWriter(aws, policy, windows);
        TagAudit audit = new TagAudit(
                ledger,
                config.eventBus(),
                clock,
                100,
                java.time.Duration.ofSeconds(
                        settings.intOr("patchpilot.tagging.abandoned-after-seconds", 900, 1, 86_400)));
        QueueSender work = new QueueSender(aws, config.queues().work());
        return new Tagging(
                organization,
                ledger,
                windows,
                policy,
                writer,
                audit,
                work,
                new ReconcileSweep(work, organization, writer, audit, config, clock));
    }

    /** Compliance reports: the SQL in reports/, run by DuckDB (local) or Athena (AWS), published by mail and Slack. */
    static Map<String, Object> reports(
            java.nio.file.Path home,
            Settings settings,
            PatchpilotConfig config,
            AwsClients aws,
            Tagging t,
            io.patchpilot.notify.NotifySettings notify,
            io.patchpilot.notify.Notifications notifications,
            Clock clock) {
        var catalog = new io.patchpilot.report.ReportCatalog(
                home.resolve("reports"),
                Map.of(
                        "stale_days", settings.intOr("patchpilot.report.stale-days", 7, 0, 3650),
                        "run_days", settings.intOr("patchpilot.report.run-days", 30, 1, 3650)));
        var files = new io.patchpilot.report.ReportFiles(aws);
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put(
                "reportRuns",
                new io.patchpilot.report.ReportRuns(
                        aws,
                        t.ledger(),
                        t.organization(),
                        config.regions(),
                        t.work(),
                        catalog,
                        files,
                        notifications,
                        new io.patchpilot.report.ReportRuns.Options(
                                settings.optional("patchpilot.report.engine").orElse("athena"),
                                config.buckets().inventory(),
                                config.buckets().reports(),
                                settings.optional("patchpilot.report.owner-tag").orElse("owner"),
                                settings.intOr("patchpilot.report.attach-max-bytes", 1_048_576, 0, 10_485_760),
                                notify.centralTeam(),
                                notify.accountContacts(),
                                config.eventBus()),
                        clock));
        beans.put(
                "duckDbEngine",
                new io.patchpilot.report.DuckDbEngine(
                        aws,
                        config.buckets().inventory(),
                        settings.optional("patchpilot.report.inventory-prefix").orElse("inventory")));
        beans.put("athenaResults", new io.patchpilot.report.AthenaResults(aws));
        return beans;
    }

    /** Emergency runs: who may request and approve, which environments need approval, the request checks. */
    static io.patchpilot.emergency.EmergencyRuns emergency(
            Settings settings,
            PatchpilotConfig config,
            AwsClients aws,
            Tagging t,
            io.patchpilot.patching.PatchRuns runs,
            Clock clock) {
        io.patchpilot.emergency.AwsLookups lookups = new io.patchpilot.emergency.AwsLookups(aws);
        var validator = new io.patchpilot.emergency.EmergencyValidator(
                config.environments(),
                config.regions(),
                java.util.Set.copyOf(settings.listOrEmpty("patchpilot.emergency.override-buckets")),
                settings.intOr("patchpilot.emergency.max-body-bytes", 16_384, 1024, 1_048_576),
                t.organization()::isActiveMember,
                lookups::objectExists);
        return new io.patchpilot.emergency.EmergencyRuns(
                validator,
                new io.patchpilot.emergency.Principals(
                        "patchpilot.emergency.requesters",
                        settings.listOrEmpty("patchpilot.emergency.requesters"),
                        lookups::principalId),
                new io.patchpilot.emergency.Principals(
                        "patchpilot.emergency.approvers",
                        settings.listOrEmpty("patchpilot.emergency.approvers"),
                        lookups::principalId),
                java.util.Set.copyOf(settings.listOrEmpty("patchpilot.emergency.approval-required")),
                java.time.Duration.ofSeconds(
                        settings.intOr("patchpilot.emergency.approval-expiry-seconds", 14_400, 1, 7 * 86_400)),
                java.time.Duration.ofHours(settings.intOr("patchpilot.emergency.deadline-hours", 12, 1, 48)),
                runs,
                t.ledger(),
                t.organization(),
                config.regions(),
                t.work(),
                config.eventBus(),
                clock);
    }

    public static Map<String, Object> create(
            java.nio.file.Path home, Settings settings, PatchpilotConfig config, AwsClients aws, SqsAcknowledger acks) {
        Clock clock = Clock.systemUTC();
        Tagging t = tagging(settings, config, aws, clock);
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put("organization", t.organization());
        beans.put("ledger", t.ledger());
        beans.put("windowDirectory", t.windows());
        beans.put("windowStore", new io.patchpilot.windows.WindowStore(t.ledger(), t.windows(), clock));
        beans.put(
                "configEvents",
                new ConfigEvents(settings.requireList("patchpilot.tagging.config-rule-names"), t.organization()));
        beans.put(
                "tagBatcher",
                new TagBatcher(
                        t.writer(),
                        t.audit(),
                        acks,
                        "direct:publish-events",
                        settings.intOr("patchpilot.tagging.batch-size", 200, 1, 1000),
                        settings.intOr("patchpilot.tagging.linger-ms", 2000, 0, 10_000),
                        settings.intOr("patchpilot.tagging.max-in-flight", 10_000, 1, 100_000),
                        settings.intOr("patchpilot.tagging.workers", 16, 1, 256)));
        beans.put("tagBackpressure", ((TagBatcher) beans.get("tagBatcher")).backpressure());
        io.patchpilot.windows.WindowStore windowStore = (io.patchpilot.windows.WindowStore) beans.get("windowStore");
        QueueSender work = t.work();
        io.patchpilot.patching.PatchRuns runs = new io.patchpilot.patching.PatchRuns(
                t.ledger(), windowStore, t.organization(), work, config.regions(), config.eventBus(), clock);
        beans.put("patchRuns", runs);
        io.patchpilot.ami.AmiSettings ami = io.patchpilot.ami.AmiSettings.from(settings, config);
        beans.put(
                "amiRefreshStep",
                new io.patchpilot.ami.AmiRefreshStep(t.ledger(), aws, ami, runs, work::sendLater, clock));
        beans.put(
                "patchTargetStep",
                new io.patchpilot.patching.PatchTargetStep(
                        aws,
                        t.ledger(),
                        new io.patchpilot.patching.TargetDiscovery(aws, t.policy()),
                        runs,
                        work,
                        config.buckets().logs(),
                        settings.intOr("patchpilot.patching.poll-seconds", 30, 1, 900),
                        settings.intOr("patchpilot.patching.step-lease-seconds", 90, 5, 900),
                        config.queues().maxReceiveCount(),
                        clock,
                        new io.patchpilot.ami.AmiRefreshes(
                                aws,
                                t.ledger(),
                                config.ledgerTable(),
                                new io.patchpilot.ami.GroupClassifier(t.policy(), ami.patchGroupKey()),
                                work::sendLater,
                                clock)));
        beans.put(
                "selfService",
                new io.patchpilot.windows.SelfService(
                        new io.patchpilot.windows.WindowValidator(config.environments()),
                        windowStore,
                        t.organization(),
                        t.sweep(),
                        new QueueSender(aws, config.queues().schedules()),
                        config.eventBus()));
        beans.put(
                "windowRules",
                new io.patchpilot.windows.WindowRules(
                        windowStore,
                        t.windows(),
                        aws,
                        config.hub().region(),
                        config.queues().schedules()));
        beans.put(
                "messageTypes",
                new MessageTypes(Map.of(
                        "schedules", List.of("reconcile", "window-fire", "window-sync", "report"),
                        "work",
                                List.of(
                                        "reconcile-item",
                                        "patch-target",
                                        "patch-poll",
                                        "notify-email",
                                        "notify-slack",
                                        "emergency-expire",
                                        "report-collect",
                                        "report-publish",
                                        io.patchpilot.ami.AmiRefreshStep.TYPE))));
        beans.put("reconcileSweep", t.sweep());
        beans.put("emergencyRuns", emergency(settings, config, aws, t, runs, clock));
        io.patchpilot.notify.NotifySettings notify = io.patchpilot.notify.NotifySettings.from(settings);
        beans.put(
                "notifications",
                new io.patchpilot.notify.Notifications(
                        new io.patchpilot.notify.Notices(notify.centralTeam(), notify.accountContacts()),
                        runId -> runs.problems(runId, 50),
                        work,
                        notify.mail(),
                        notify.slack()));
        beans.putAll(reports(
                home,
                settings,
                config,
                aws,
                t,
                notify,
                (io.patchpilot.notify.Notifications) beans.get("notifications"),
                clock));
        beans.putAll(io.patchpilot.web.WebBeans.create(settings, config, aws, t.ledger(), windowStore, clock));
        beans.put(
                "notifier",
                new io.patchpilot.notify.Notifier(
                        notify.from(),
                        notify.slackWebhook(),
                        notify.outbox(),
                        clock,
                        new io.patchpilot.report.ReportFiles(aws)::read));
        return beans;
    }
}
