package io.patchpilot.cli;

import io.patchpilot.bench.BenchCommand;
import io.patchpilot.config.ConfigException;
import io.patchpilot.local.LocalAws;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "patchpilot",
        mixinStandardHelpOptions = true,
        version = "patchpilot 0.1.0",
        description = "Keeps the EC2 fleet of an AWS Organization patched from one hub account.",
        subcommands = {
            RunCommand.class,
            LocalCommand.class,
            TagsCommand.class,
            WindowCommand.class,
            RunsCommand.class,
            PlanCommand.class,
            EmergencyCommand.class,
            ReportCommand.class,
            DlqCommand.class,
            DoctorCommand.class,
            BenchCommand.class,
            MigrateCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Exit codes: 0 ok, 1 failed, 2 usage, 3 bad setting or input file, 4 environment not ready (port taken, python3/moto missing)."
        })
public final class PatchpilotCli implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new PatchpilotCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                commandLine.getErr().println("patchpilot: " + e.getMessage());
                return ExitCode.CONFIG;
            }
            if (e instanceof LocalAws.PortInUseException) {
                commandLine.getErr().println("patchpilot: " + e.getMessage());
                return ExitCode.ENVIRONMENT;
            }
            commandLine.getErr().println("patchpilot: failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (Boolean.getBoolean("patchpilot.debug")) e.printStackTrace(commandLine.getErr());
            return ExitCode.FAILED;
        });
        return cli.execute(args);
    }
}
