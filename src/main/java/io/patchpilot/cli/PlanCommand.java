package io.patchpilot.cli;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.patching.TargetDiscovery;
import io.patchpilot.service.ServiceBeans;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowNames;
import io.patchpilot.windows.WindowStore;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description =
                "What a window would patch, per account x region, and what it would skip and why. Read-only; the run's own discovery.")
final class PlanCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--window", required = true, description = "Dev or Dev_maintenance_window")
    String window;

    @Option(
            names = "--window-account",
            description = "The account owning the window; omit for an organization-wide window.")
    String windowAccount;

    @Option(names = "--account", description = "Only this member account.")
    String account;

    @Option(names = "--region", description = "Only this region.")
    String region;

    @Override
    public Integer call() {
        Settings settings = target.settings();
        PatchpilotConfig config = target.config(settings);
        try (AwsClients aws = target.clients(config)) {
            String name = window.endsWith("_maintenance_window") ? window : window + "_maintenance_window";
            String key = (windowAccount == null ? WindowDirectory.ORGANIZATION_WIDE : windowAccount) + "#" + name;
            print(settings, config, aws, key, account, region);
            return ExitCode.OK;
        }
    }

    /**
     * Prints what the window {@code key} would patch and skip, per account × region (only
     * {@code account}/{@code region} when given); also {@code window run --dry-run}.
     */
    static void print(
            Settings settings, PatchpilotConfig config, AwsClients aws, String key, String account, String region) {
        Clock clock = Clock.systemUTC();
        ServiceBeans.Tagging tagging = ServiceBeans.tagging(settings, config, aws, clock);
        Ledger ledger = tagging.ledger();
        MaintenanceWindow w = new WindowStore(ledger, tagging.windows(), clock)
                .get(key)
                .orElseThrow(() ->
                        new ConfigException("--window: " + key + " does not exist (see 'patchpilot window list')"));
        List<String> accounts =
                w.organizationWide() ? List.copyOf(tagging.organization().activeAccounts()) : List.of(w.account());
        TargetDiscovery discovery = new TargetDiscovery(aws, tagging.policy());
        int patch = 0;
        int skip = 0;
        for (String a : accounts) {
            if (account != null && !account.equals(a)) continue;
            for (String r : config.regions()) {
                if (region != null && !region.equals(r)) continue;
                AccountRegion ar = new AccountRegion(a, r);
                try {
                    TargetDiscovery.Targets t = discovery.find(ar, w.name(), "plan");
                    System.out.printf(
                            "%s  patch %d, skip %d%n",
                            ar, t.patch().size(), t.skipped().size());
                    t.patch().forEach(id -> System.out.println("  patch " + id));
                    t.skipped().forEach((id, why) -> System.out.println("  skip  " + id + "  " + why));
                    patch += t.patch().size();
                    skip += t.skipped().size();
                } catch (RuntimeException e) {
                    System.out.printf(
                            "%s  cannot be read: %s%n",
                            ar, e.getMessage().lines().findFirst().orElse(""));
                }
            }
        }
        System.out.printf(
                "plan for %s: %d instances to patch, %d skipped; nothing was changed%n",
                WindowNames.display(w), patch, skip);
    }
}
