package io.patchpilot.service;

import io.patchpilot.ami.AmiRefreshStep;
import io.patchpilot.ami.AmiRefreshes;
import io.patchpilot.ami.AmiSettings;
import io.patchpilot.ami.GroupClassifier;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.doctor.DoctorPings;
import io.patchpilot.emergency.AwsLookups;
import io.patchpilot.emergency.EmergencyRuns;
import io.patchpilot.emergency.EmergencyValidator;
import io.patchpilot.emergency.Principals;
import io.patchpilot.errors.DeadLetters;
import io.patchpilot.errors.SqsAcknowledger;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.notify.Notices;
import io.patchpilot.notify.Notifications;
import io.patchpilot.notify.Notifier;
import io.patchpilot.notify.NotifySettings;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.patching.PatchTargetStep;
import io.patchpilot.patching.TargetDiscovery;
import io.patchpilot.report.AthenaResults;
import io.patchpilot.report.DuckDbEngine;
import io.patchpilot.report.ReportCatalog;
import io.patchpilot.report.ReportFiles;
import io.patchpilot.report.ReportRuns;
import io.patchpilot.tagging.ConfigEvents;
import io.patchpilot.tagging.ReconcileSweep;
import io.patchpilot.tagging.TagAudit;
import io.patchpilot.tagging.TagBatcher;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.tagging.TagWriter;
import io.patchpilot.web.WebBeans;
import io.patchpilot.windows.SelfService;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowParameterSweep;
import io.patchpilot.windows.WindowParameters;
import io.patchpilot.windows.WindowRules;
import io.patchpilot.windows.WindowStore;
import io.patchpilot.windows.WindowValidator;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;

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
                Duration.ofSeconds(settings.intOr("patchpilot.tagging.abandoned-after-seconds", 900, 1, 86_400)));
        QueueSender work = new QueueSender(aws, config.queues().work());
        return new Tagging(
                organization,
                ledger,
                windows,
                policy,
                writer,
                audit,
                work,
                new ReconcileSweep(
                        work,
                        organization,
                        writer,
                        audit,
                        ledger,
                        config,
                        clock,
                        new WindowParameterSweep(
                                new WindowParameters(aws),
                                new WindowStore(ledger, windows, clock),
                                new QueueSender(aws, config.queues().selfService()))));
    }

    /** Compliance reports: the SQL in reports/, run by DuckDB (local) or Athena (AWS), published by mail and Slack. */
    static Map<String, Object> reports(
            Path home,
            Settings settings,
            PatchpilotConfig config,
            AwsClients aws,
            Tagging t,
            NotifySettings notify,
            Notifications notifications,
            Clock clock) {
        var catalog = new ReportCatalog(
                home.resolve("reports"),
                Map.of(
                        "stale_days", settings.intOr("patchpilot.report.stale-days", 7, 0, 3650),
                        "run_days", settings.intOr("patchpilot.report.run-days", 30, 1, 3650)));
        var files = new ReportFiles(aws);
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put(
                "reportRuns",
                new ReportRuns(
                        aws,
                        t.ledger(),
                        t.organization(),
                        config.regions(),
                        t.work(),
                        catalog,
                        files,
                        notifications,
                        new ReportRuns.Options(
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
                new DuckDbEngine(
                        aws,
                        config.buckets().inventory(),
                        settings.optional("patchpilot.report.inventory-prefix").orElse("inventory")));
        beans.put("athenaResults", new AthenaResults(aws));
        return beans;
    }

    /** Emergency runs: who may request and approve, which environments need approval, the request checks. */
    static EmergencyRuns emergency(
            Settings settings, PatchpilotConfig config, AwsClients aws, Tagging t, PatchRuns runs, Clock clock) {
        AwsLookups lookups = new AwsLookups(aws);
        var validator = new EmergencyValidator(
                config.environments(),
                config.regions(),
                Set.copyOf(settings.listOrEmpty("patchpilot.emergency.override-buckets")),
                settings.intOr("patchpilot.emergency.max-body-bytes", 16_384, 1024, 1_048_576),
                t.organization()::isActiveMember,
                lookups::objectExists);
        return new EmergencyRuns(
                validator,
                new Principals(
                        "patchpilot.emergency.requesters",
                        settings.listOrEmpty("patchpilot.emergency.requesters"),
                        lookups::principalId),
                new Principals(
                        "patchpilot.emergency.approvers",
                        settings.listOrEmpty("patchpilot.emergency.approvers"),
                        lookups::principalId),
                Set.copyOf(settings.listOrEmpty("patchpilot.emergency.approval-required")),
                Duration.ofSeconds(
                        settings.intOr("patchpilot.emergency.approval-expiry-seconds", 14_400, 1, 7 * 86_400)),
                Duration.ofHours(settings.intOr("patchpilot.emergency.deadline-hours", 12, 1, 48)),
                runs,
                t.ledger(),
                t.organization(),
                config.regions(),
                t.work(),
                config.eventBus(),
                clock);
    }

    /** A patch step that gives up leaves its message in the work DLQ with its reason and its give-up token. */
    private static PatchTargetStep.GiveUpLetters giveUpLetters(AwsClients aws, SqsAcknowledger acks, String workQueue) {
        DeadLetters deadLetters = new DeadLetters(aws.hub(SqsClient.class), acks);
        return (body, reason, token) -> deadLetters.deadLetter(
                workQueue,
                body,
                Map.of(DeadLetters.GIVE_UP_ATTRIBUTE, DeadLetters.text(token)),
                reason,
                "(a patch step)");
    }

    public static Map<String, Object> create(
            Path home, Settings settings, PatchpilotConfig config, AwsClients aws, SqsAcknowledger acks) {
        Clock clock = Clock.systemUTC();
        Tagging t = tagging(settings, config, aws, clock);
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put("organization", t.organization());
        beans.put("ledger", t.ledger());
        beans.put("windowDirectory", t.windows());
        beans.put("windowStore", new WindowStore(t.ledger(), t.windows(), clock));
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
        WindowStore windowStore = (WindowStore) beans.get("windowStore");
        QueueSender work = t.work();
        PatchRuns runs = new PatchRuns(
                t.ledger(), windowStore, t.organization(), work, config.regions(), config.eventBus(), clock);
        beans.put("patchRuns", runs);
        beans.put("doctorPings", new DoctorPings(t.ledger(), clock));
        AmiSettings ami = AmiSettings.from(settings, config);
        beans.put("amiRefreshStep", new AmiRefreshStep(t.ledger(), aws, ami, runs::targetDone, work::sendLater, clock));
        beans.put(
                "patchTargetStep",
                new PatchTargetStep(
                        aws,
                        t.ledger(),
                        new TargetDiscovery(aws, t.policy()),
                        runs,
                        work,
                        config.buckets().logs(),
                        settings.intOr("patchpilot.patching.poll-seconds", 30, 1, 900),
                        settings.intOr("patchpilot.patching.step-lease-seconds", 90, 5, 900),
                        config.queues().maxReceiveCount(),
                        clock,
                        new AmiRefreshes(
                                aws,
                                t.ledger(),
                                config.ledgerTable(),
                                new GroupClassifier(t.policy(), ami.patchGroupKey()),
                                work::sendLater,
                                clock),
                        giveUpLetters(aws, acks, config.queues().work())));
        beans.put(
                "selfService",
                new SelfService(
                        new WindowValidator(config.environments()),
                        windowStore,
                        t.organization(),
                        t.sweep()::fanOutAccount,
                        new QueueSender(aws, config.queues().schedules()),
                        config.eventBus(),
                        new WindowParameters(aws),
                        clock));
        beans.put(
                "windowRules",
                new WindowRules(
                        windowStore,
                        t.windows(),
                        aws,
                        config.hub().region(),
                        config.queues().schedules()));
        beans.put(
                "messageTypes",
                new MessageTypes(Map.of(
                        "schedules",
                                List.of(
                                        "reconcile",
                                        "window-fire",
                                        "window-run",
                                        "window-sync",
                                        "report",
                                        "doctor-ping"),
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
                                        AmiRefreshStep.TYPE))));
        beans.put("reconcileSweep", t.sweep());
        beans.put("emergencyRuns", emergency(settings, config, aws, t, runs, clock));
        NotifySettings notify = NotifySettings.from(settings);
        beans.put(
                "notifications",
                new Notifications(
                        new Notices(
                                notify.centralTeam(),
                                notify.accountContacts(),
                                settings.optional("patchpilot.http.public-url")),
                        runId -> runs.figures(runId, 50),
                        work,
                        notify.mail(),
                        notify.slack()));
        beans.putAll(
                reports(home, settings, config, aws, t, notify, (Notifications) beans.get("notifications"), clock));
        beans.putAll(WebBeans.create(settings, config, aws, t.ledger(), windowStore, clock));
        beans.put(
                "notifier",
                new Notifier(notify.from(), notify.slackWebhook(), notify.outbox(), clock, new ReportFiles(aws)::read));
        return beans;
    }
}
