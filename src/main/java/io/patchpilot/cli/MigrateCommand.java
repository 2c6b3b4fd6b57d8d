package io.patchpilot.cli;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.SampleWindows;
import io.patchpilot.windows.SeedMigration;
import io.patchpilot.windows.SeedMigration.Decision;
import io.patchpilot.windows.SeedMigration.SampleWindow;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowStore;
import io.patchpilot.windows.WindowValidator;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.exception.SdkException;

@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = "Move an organization from another patching solution to patchpilot.",
        subcommands = {MigrateCommand.Seed.class})
final class MigrateCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(
            name = "seed",
            mixinStandardHelpOptions = true,
            description = {
                "Move the AWS sample's (self-service-patching-solution-for-multi-account-organisation) maintenance windows:",
                "in every ACTIVE member account × region (through the member role) each SSM window <Env>_maintenance_window",
                "(rate(N days) from its StartDate or a cron; Duration, Cutoff; its Lambda tasks' patching operation, post-",
                "patching operation, include ASG, retain healthy percentage, refresh) becomes that account's patchpilot",
                "window, validated as a Window Request and declared by 'migration'; then the sample's window is disabled",
                "(Enabled=false, never deleted) so nothing is patched twice. Default_maintenance_window maps to the",
                "organization-wide Default and is only disabled when it patches the same way. A window that cannot be",
                "mapped, or that differs from a patchpilot window of the same name, is listed with the reason and left",
                "alone (still enabled). A second run changes nothing ('already migrated'). Run it with the hub task role's",
                "credentials (the only principal the member role trusts), e.g. through ECS Exec, as 'doctor'.",
                "Exit 0 when every window is migrated or already migrated, 1 when some are left alone, an account-region",
                "cannot be read or a window cannot be disabled (each said on its line; the others go on)."
            })
    static final class Seed implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Option(
                names = "--dry-run",
                description = "Print what each window becomes and what would change; change nothing.")
        boolean dryRun;

        @Option(names = "--account", description = "Only this member account.")
        String account;

        @Option(names = "--region", description = "Only this region (one of patchpilot.regions).")
        String region;

        private int notDisabled;

        @Override
        public Integer call() {
            Settings settings = target.settings();
            PatchpilotConfig config = target.config(settings);
            if (account != null && !account.matches("\\d{12}"))
                throw new ConfigException("--account: '" + account + "' is not a 12-digit account id");
            if (region != null && !config.regions().contains(region))
                throw new ConfigException("--region: '" + region + "' is not one of patchpilot.regions "
                        + String.join(", ", config.regions()));
            try (AwsClients aws = target.clients(config)) {
                Clock clock = Clock.systemUTC();
                Ledger ledger = new Ledger(aws, config.ledgerTable());
                WindowStore store = new WindowStore(ledger, new WindowDirectory(ledger, clock), clock);
                WindowValidator validator = new WindowValidator(config.environments());
                SampleWindows samples = new SampleWindows(aws);
                String hub = aws.hubAccountId();
                List<String> accounts = new ArrayList<>(new Organization(aws, clock)
                        .activeAccounts().stream()
                                .filter(a -> !a.equals(hub))
                                .sorted()
                                .toList());
                if (account != null) {
                    if (!accounts.contains(account))
                        throw new ConfigException("--account: " + account + " is not an ACTIVE member account");
                    accounts = List.of(account);
                }
                List<String> regions = region == null ? config.regions() : List.of(region);
                Map<SeedMigration.Step, Integer> counts = new EnumMap<>(SeedMigration.Step.class);
                boolean created = false;
                int unreadable = 0;
                for (String a : accounts) {
                    for (String r : regions) {
                        AccountRegion at = new AccountRegion(a, r);
                        List<SampleWindow> found;
                        try {
                            found = samples.list(at);
                        } catch (SdkException e) {
                            // one account-region out of reach (role not updated yet, region not enabled) stops nothing
                            // else
                            System.out.println(at + " cannot be read, nothing changed there: " + e.getMessage());
                            unreadable++;
                            continue;
                        }
                        for (SampleWindow w : found) {
                            SeedMigration.Mapping mapping = SeedMigration.map(w, a, validator);
                            String key = mapping instanceof SeedMigration.Mapped m
                                    ? m.window().key()
                                    : a + "#" + w.name();
                            Decision d = SeedMigration.decide(
                                    w, mapping, store.get(key), store.declaration(key), Instant.now());
                            System.out.println(at + " " + SeedMigration.describe(w));
                            if (d.window() != null) System.out.println("  -> " + SeedMigration.describe(d.window()));
                            System.out.println("  " + act(d, w, at, store, samples));
                            counts.merge(d.step(), 1, Integer::sum);
                            created |= !dryRun && d.step() == SeedMigration.Step.CREATE_AND_DISABLE;
                        }
                    }
                }
                if (created) new QueueSender(aws, config.queues().schedules()).send("{\"type\":\"window-sync\"}");
                int migrated = counts.getOrDefault(SeedMigration.Step.CREATE_AND_DISABLE, 0)
                        + counts.getOrDefault(SeedMigration.Step.DISABLE, 0);
                int left = counts.getOrDefault(SeedMigration.Step.LEAVE, 0);
                System.out.printf(
                        "%d sample windows in %d member accounts × %d regions: %d %s, %d already migrated, %d left alone%s%s%n",
                        counts.values().stream().mapToInt(Integer::intValue).sum(),
                        accounts.size(),
                        regions.size(),
                        migrated,
                        dryRun ? "to migrate" : "migrated",
                        counts.getOrDefault(SeedMigration.Step.ALREADY_MIGRATED, 0),
                        left,
                        (unreadable == 0 ? "" : ", " + unreadable + " account-regions not read")
                                + (notDisabled == 0 ? "" : ", " + notDisabled + " not disabled"),
                        dryRun ? " (dry run: nothing changed)" : "");
                return left == 0 && unreadable == 0 && notDisabled == 0 ? ExitCode.OK : ExitCode.FAILED;
            }
        }

        private String act(Decision d, SampleWindow w, AccountRegion at, WindowStore store, SampleWindows samples) {
            switch (d.step()) {
                case CREATE_AND_DISABLE -> {
                    if (dryRun) return "would create it and disable " + w.id();
                    MaintenanceWindow window = d.window();
                    store.put(window, WindowStore.Declaration.migration());
                    return "created; " + disable(at, w, samples);
                }
                case DISABLE -> {
                    if (dryRun) return "would disable " + w.id() + ": " + d.why();
                    return disable(at, w, samples) + ": " + d.why();
                }
                case ALREADY_MIGRATED -> {
                    return "already migrated";
                }
                default -> {
                    return "left alone: " + d.why();
                }
            }
        }

        /** A failed disable is said, not thrown: the next run finds the window created and only disables. */
        private String disable(AccountRegion at, SampleWindow w, SampleWindows samples) {
            try {
                samples.disable(at, w.id());
                return "disabled " + w.id() + " (kept, not deleted)";
            } catch (SdkException e) {
                notDisabled++;
                return "NOT disabled " + w.id() + " (" + e.getMessage() + "); run again";
            }
        }
    }
}
