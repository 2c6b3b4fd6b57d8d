package io.patchpilot.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.report.ReportRuns;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = "Compliance reports (reports/*.sql).",
        subcommands = {ReportCommand.Run.class})
final class ReportCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = {
                "Queue a report run now ({\"type\":\"report\"} on patchpilot-schedules, as the daily rule does).",
                "CSVs go to the reports bucket under reports/YYYY/MM/DD/ and reports/latest/; the mail to the team (or --to).",
                "One run per minute and choice of reports/recipients (report-YYYYMMDDTHHMM): a second request in that"
                        + " minute is the same run; it is not queued again and the command says so."
            })
    static final class Run implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Option(
                names = "--report",
                split = ",",
                description = "Only these reports (file names in reports/, without .sql).")
        List<String> reports = List.of();

        @Option(
                names = "--to",
                split = ",",
                description = "Mail the result to these addresses instead of the team (no owner mails).")
        List<String> to = List.of();

        @Option(
                names = "--follow",
                description = "Wait for the report to be published, printing its progress (account-regions collected,"
                        + " reports written); exit 0 when published.")
        boolean follow;

        @Override
        public Integer call() throws InterruptedException {
            PatchpilotConfig config = target.config(target.settings());
            Instant at = Instant.now().truncatedTo(ChronoUnit.MINUTES);
            ObjectNode m = new ObjectMapper().createObjectNode().put("type", "report");
            if (!reports.isEmpty()) reports.forEach(m.putArray("queries")::add);
            if (!to.isEmpty()) to.forEach(m.putArray("to")::add);
            m.put("requestedAt", at.toString());
            String reportId = ReportRuns.reportId(at, !reports.isEmpty() || !to.isEmpty(), reports, to);
            try (AwsClients aws = target.clients(config)) {
                Ledger ledger = new Ledger(aws, config.ledgerTable());
                var earlier = ledger.get(ReportRuns.pk(reportId), ReportRuns.REPORT);
                if (earlier.isPresent()) {
                    // one report run per minute and request: a second request would silently show the first's result
                    System.err.println("patchpilot: report " + reportId + " was already requested this minute ("
                            + earlier.get().get("status").s() + "): this is the same run, not queued again;"
                            + " a new run can be requested from " + at.plus(1, ChronoUnit.MINUTES));
                } else {
                    new QueueSender(aws, config.queues().schedules()).send(m.toString());
                    System.out.println("report " + reportId + " queued: " + m);
                }
                if (!follow) return ExitCode.OK;
                return Follow.forConsole()
                        .follow(
                                "report " + reportId,
                                Follow.report(ledger, reportId),
                                "see 'patchpilot dlq list schedules'");
            }
        }
    }
}
