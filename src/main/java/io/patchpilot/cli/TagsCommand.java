package io.patchpilot.cli;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.service.ServiceBeans;
import io.patchpilot.tagging.ReconcileSweep;
import io.patchpilot.tagging.TagOutcome;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "tags",
        mixinStandardHelpOptions = true,
        description = "Patch tags of instances and AutoScaling groups.",
        subcommands = TagsCommand.Reconcile.class)
final class TagsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(
            name = "reconcile",
            mixinStandardHelpOptions = true,
            description = {
                "Bring every instance and group of every account x region to its right tags.",
                "Without --dry-run: queues the same {\"type\":\"reconcile\"} message the daily schedule sends.",
                "With --dry-run: prints what would change per account/region and writes nothing."
            })
    static final class Reconcile implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Option(names = "--dry-run", description = "Print the changes; write nothing.")
        boolean dryRun;

        @Option(
                names = "--follow",
                description = "Wait for the sweep to end, printing the account-regions done; exit 0 when none failed.")
        boolean follow;

        @Override
        public Integer call() throws InterruptedException {
            Settings settings = target.settings();
            PatchpilotConfig config = target.config(settings);
            try (AwsClients aws = target.clients(config)) {
                if (!dryRun) {
                    String id = ReconcileSweep.newId(Clock.systemUTC());
                    new QueueSender(aws, config.queues().schedules())
                            .send("{\"type\":\"reconcile\",\"id\":\"" + id + "\"}");
                    System.out.println(
                            "reconcile " + id + " queued on " + config.queues().schedules());
                    if (!follow) return ExitCode.OK;
                    return Follow.forConsole()
                            .follow(
                                    "reconcile " + id,
                                    Follow.sweep(new Ledger(aws, config.ledgerTable()), id),
                                    "see 'patchpilot dlq list schedules'");
                }
                ReconcileSweep sweep = ServiceBeans.tagging(settings, config, aws, Clock.systemUTC())
                        .sweep();
                int changes = 0;
                for (AccountRegion ar : sweep.scope()) {
                    List<TagOutcome> outcomes;
                    try {
                        outcomes = sweep.plan(ar);
                    } catch (RuntimeException e) {
                        System.out.printf(
                                "%s  cannot be read: %s%n",
                                ar, e.getMessage().lines().findFirst().orElse(""));
                        continue;
                    }
                    System.out.printf("%s  %s%n", ar, ReconcileSweep.counts(outcomes));
                    for (TagOutcome o : outcomes) {
                        if (o.result() != TagOutcome.Result.TAGGED) continue;
                        changes++;
                        System.out.printf("  would tag %-28s %s%n", o.request().resourceId(), o.written());
                    }
                }
                System.out.println("dry run: " + changes + " resources would change; nothing was written");
                return ExitCode.OK;
            }
        }
    }
}
