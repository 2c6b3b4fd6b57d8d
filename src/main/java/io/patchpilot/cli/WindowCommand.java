package io.patchpilot.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.console.Progress;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowStore;
import io.patchpilot.windows.WindowValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "window",
        mixinStandardHelpOptions = true,
        description = "Maintenance windows (the central team's view; account owners use self-service requests).",
        subcommands = {
            WindowCommand.Create.class,
            WindowCommand.Update.class,
            WindowCommand.Delete.class,
            WindowCommand.ListWindows.class,
            WindowCommand.Show.class,
            WindowCommand.Next.class,
            WindowCommand.RunNow.class
        })
final class WindowCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** What every window subcommand shares: where to act, and the window store. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        Settings settings;
        PatchpilotConfig config;
        AwsClients aws;

        @Override
        public Integer call() throws Exception {
            settings = target.settings();
            config = target.config(settings);
            try (AwsClients clients = target.clients(config)) {
                aws = clients;
                Clock clock = Clock.systemUTC();
                Ledger ledger = new Ledger(aws, config.ledgerTable());
                return run(new WindowStore(ledger, new WindowDirectory(ledger, clock), clock));
            }
        }

        abstract int run(WindowStore store) throws Exception;

        /** Asks the service to make the schedule rules match the windows (the same message anyone could send). */
        void requestRuleSync() {
            new QueueSender(aws, config.queues().schedules()).send("{\"type\":\"window-sync\"}");
        }

        static String key(String account, String name) {
            String full = name.endsWith("_maintenance_window") ? name : name + "_maintenance_window";
            return (account == null ? WindowDirectory.ORGANIZATION_WIDE : account) + "#" + full;
        }

        static void print(MaintenanceWindow w, WindowStore store) {
            System.out.printf(
                    "%-45s %-14s %s; next: %s; declared by %s%n",
                    w.name(),
                    w.organizationWide() ? "organization" : w.account(),
                    WindowSchedule.describe(w),
                    WindowSchedule.nextOpenings(w, Instant.now(), 1).stream()
                            .findFirst()
                            .map(Instant::toString)
                            .orElse("never"),
                    store.declaration(w.key())
                            .map(WindowStore.Declaration::describe)
                            .orElse(WindowStore.Declaration.CLI));
        }

        /** A window an SSM parameter declares changes only with its parameter (the parameter wins). */
        static void refuseIfDeclaredByParameter(WindowStore store, String key) {
            store.declaration(key).filter(WindowStore.Declaration::byParameter).ifPresent(d -> {
                throw new ConfigException(key.substring(key.indexOf('#') + 1) + " of "
                        + key.substring(0, key.indexOf('#')) + " is declared by the SSM parameter "
                        + d.parameter() + " in that account (" + d.region()
                        + "); change or delete the parameter there");
            });
        }
    }

    abstract static class Write extends Base {
        @Parameters(
                index = "0",
                paramLabel = "FILE",
                description =
                        "Window parameters as JSON (the seed product's names, e.g. {\"Environment\":\"Dev\",\"PatchingWindowWeekday\":\"Sunday\"}); '-' reads stdin.")
        Path file;

        @Option(
                names = "--account",
                description = "The member account that owns the window; omit for an organization-wide window.")
        String account;

        MaintenanceWindow parse() throws IOException {
            JsonNode json;
            try {
                json = new ObjectMapper()
                        .readTree(file.toString().equals("-") ? System.in.readAllBytes() : Files.readAllBytes(file));
            } catch (JsonProcessingException e) {
                throw new ConfigException(file + ": not JSON: " + e.getOriginalMessage());
            }
            if (account != null && !account.matches("\\d{12}"))
                throw new ConfigException("--account: '" + account + "' is not a 12-digit account id");
            try {
                return new WindowValidator(config.environments()).validate(json, account);
            } catch (WindowValidator.InvalidWindow e) {
                throw new ConfigException(file + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a window (fails if it exists).")
    static final class Create extends Write {
        @Override
        int run(WindowStore store) throws Exception {
            MaintenanceWindow w = parse();
            refuseIfDeclaredByParameter(store, w.key());
            if (store.get(w.key()).isPresent())
                throw new ConfigException(w.name() + " already exists for "
                        + (account == null ? "the organization" : account) + "; use 'window update'");
            store.put(w);
            requestRuleSync();
            print(store.get(w.key()).orElseThrow(), store);
            return ExitCode.OK;
        }
    }

    @Command(
            name = "update",
            mixinStandardHelpOptions = true,
            description = "Change a window (re-applying the same parameters changes nothing).")
    static final class Update extends Write {
        @Override
        int run(WindowStore store) throws Exception {
            MaintenanceWindow w = parse();
            refuseIfDeclaredByParameter(store, w.key());
            if (store.get(w.key()).isEmpty())
                throw new ConfigException(w.name() + " does not exist for "
                        + (account == null ? "the organization" : account) + "; use 'window create'");
            WindowStore.Change change = store.put(w);
            if (change != WindowStore.Change.UNCHANGED) requestRuleSync();
            System.out.println(change.name().toLowerCase());
            print(store.get(w.key()).orElseThrow(), store);
            return ExitCode.OK;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a window; its resources fall back to the Default window.")
    static final class Delete extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "Dev or Dev_maintenance_window")
        String name;

        @Option(names = "--account", description = "The owning member account; omit for an organization-wide window.")
        String account;

        @Override
        int run(WindowStore store) {
            if (key(account, name).equals(WindowDirectory.ORGANIZATION_WIDE + "#Default_maintenance_window")) {
                throw new ConfigException(
                        "Default_maintenance_window is the organization-wide fallback and cannot be deleted");
            }
            refuseIfDeclaredByParameter(store, key(account, name));
            if (!store.delete(key(account, name)))
                throw new ConfigException(name + ": no such window" + (account == null ? "" : " in " + account));
            requestRuleSync();
            System.out.println("deleted " + key(account, name));
            return ExitCode.OK;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List every window with its schedule and next opening.")
    static final class ListWindows extends Base {
        @Override
        int run(WindowStore store) {
            List<MaintenanceWindow> all = store.list();
            all.forEach(w -> print(w, store));
            if (all.isEmpty()) System.out.println("no windows (the service creates the Default window when it starts)");
            return ExitCode.OK;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Show one window's parameters as JSON, with where it is declared (DeclaredBy).")
    static final class Show extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--account")
        String account;

        @Override
        int run(WindowStore store) throws Exception {
            MaintenanceWindow w = store.get(key(account, name))
                    .orElseThrow(() ->
                            new ConfigException(name + ": no such window" + (account == null ? "" : " in " + account)));
            ObjectMapper json = new ObjectMapper()
                    .registerModule(new JavaTimeModule())
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
            ObjectNode shown = json.valueToTree(w);
            shown.put(
                    "DeclaredBy",
                    store.declaration(w.key())
                            .map(WindowStore.Declaration::describe)
                            .orElse(WindowStore.Declaration.CLI));
            System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(shown));
            return ExitCode.OK;
        }
    }

    @Command(
            name = "next",
            mixinStandardHelpOptions = true,
            description = "Print the next openings of every window (or one).")
    static final class Next extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
        String name;

        @Option(names = "--account")
        String account;

        @Option(names = "--count", defaultValue = "3", description = "Openings per window. Default: ${DEFAULT-VALUE}.")
        int count;

        @Override
        int run(WindowStore store) {
            List<MaintenanceWindow> windows = name == null
                    ? store.list()
                    : List.of(store.get(key(account, name))
                            .orElseThrow(() -> new ConfigException(name + ": no such window")));
            for (MaintenanceWindow w : windows) {
                System.out.printf(
                        "%s (%s) %s%n",
                        w.name(), w.organizationWide() ? "organization" : w.account(), WindowSchedule.describe(w));
                for (Instant at : WindowSchedule.nextOpenings(w, Instant.now(), count)) {
                    System.out.printf(
                            "  %s  until %s, no new command after %s%n",
                            at, WindowSchedule.end(w, at), WindowSchedule.lastStart(w, at));
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = {
                "Run a window now, with its own parameters (deadline: now + duration - cutoff), through its rollout gate.",
                "Sends {\"type\":\"window-run\",…} to patchpilot-schedules with your credentials' identity; prints the run id",
                "(<Env>[-<account>]-manual-<minute>: a second 'window run' within the same minute is the same run).",
                "With --follow, progress until the run ends; exit code as 'runs show --follow'."
            })
    static final class RunNow extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "Dev or Dev_maintenance_window")
        String name;

        @Option(names = "--account", description = "The owning member account; omit for an organization-wide window.")
        String account;

        @Option(names = "--follow", description = "Wait for the run to end, printing its progress.")
        boolean follow;

        @Option(names = "--dry-run", description = "Print what the run would patch and skip ('plan'); send nothing.")
        boolean dryRun;

        @Option(
                names = "--skip-gate",
                description = "Run even if the rollout gate holds (predecessor not soaked); needs --reason.")
        boolean skipGate;

        @Option(
                names = "--reason",
                defaultValue = "",
                description = "Why (recorded in the ledger with your identity; required with --skip-gate).")
        String reason;

        @Override
        int run(WindowStore store) throws Exception {
            if (skipGate && reason.isBlank())
                throw new ConfigException(
                        "--skip-gate: needs --reason \"why\" (the ledger records it with your identity)");
            if (account != null && !account.matches("\\d{12}"))
                throw new ConfigException("--account: '" + account + "' is not a 12-digit account id");
            MaintenanceWindow w = store.get(key(account, name))
                    .orElseThrow(() -> new ConfigException(name + ": no such window"
                            + (account == null ? "" : " in " + account) + " (see 'patchpilot window list')"));
            if (dryRun) {
                PlanCommand.print(settings, config, aws, w.key(), null, null);
                return ExitCode.OK;
            }
            Instant at = Instant.now().truncatedTo(ChronoUnit.MINUTES);
            ObjectNode m = new ObjectMapper()
                    .createObjectNode()
                    .put("type", "window-run")
                    .put("window", w.name());
            if (w.account() != null) m.put("account", w.account());
            if (skipGate) m.put("skipGate", true);
            if (!reason.isBlank()) m.put("reason", reason);
            m.put("requestedAt", at.toString());
            new QueueSender(aws, config.queues().schedules()).send(m.toString());
            String runId = PatchRuns.manualRunId(w, at);
            System.out.println("run " + runId);
            if (!follow) {
                System.out.println("follow with 'patchpilot runs show " + runId + " --follow"
                        + (target.local ? " --local" : "") + "'");
                return ExitCode.OK;
            }
            Supplier<Optional<Progress>> run = Follow.patchRun(new Ledger(aws, config.ledgerTable()), runId);
            // a skip often follows a block within the same minute: that run stays Blocked until the skip is read
            Supplier<Optional<Progress>> poll =
                    skipGate ? () -> run.get().filter(p -> !p.status().equals("Blocked")) : run;
            return Follow.forConsole().follow("run " + runId, poll, "see 'patchpilot dlq list schedules'");
        }
    }
}
