package io.patchpilot.cli;

import io.patchpilot.config.ConfigException;
import io.patchpilot.console.Progress;
import io.patchpilot.console.ProgressPrinter;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "local",
        mixinStandardHelpOptions = true,
        description = {
            "Start the local AWS (moto + ElasticMQ on 127.0.0.1), deploy the hub stack and the member StackSet",
            "from deploy/cloudformation/ into it (parameters: config/local/stacks.yaml), launch the fleet into",
            "the member accounts and run the service in the foreground. AWS Config evaluates the patch_tags rule",
            "of every member account and region, so untagged instances are tagged without a hand-made event.",
            "Ctrl-C stops everything."
        })
final class LocalCommand implements Callable<Integer> {
    /** The first start downloads (about 820 MB) and unpacks Trino: minutes; later ones take seconds. */
    private static final Duration ATHENA_START = Duration.ofMinutes(15);

    @Option(
            names = "--fleet",
            defaultValue = "${env:PATCHPILOT_FLEET:-config/local/fleet.yaml}",
            description = "Fleet file (env PATCHPILOT_FLEET). Default: ${DEFAULT-VALUE}.")
    Path fleet;

    @Option(
            names = "--aws-port",
            defaultValue = "${env:PATCHPILOT_AWS_PORT:-4566}",
            description =
                    "Port of the local AWS; SQS listens on the next one (env PATCHPILOT_AWS_PORT). Default: ${DEFAULT-VALUE}.")
    int awsPort;

    @Option(
            names = "--http-port",
            defaultValue = "${env:PATCHPILOT_HTTP_PORT:-8080}",
            description = "Port of the service's web endpoints (env PATCHPILOT_HTTP_PORT). Default: ${DEFAULT-VALUE}.")
    int httpPort;

    @Option(
            names = "--command-delay",
            defaultValue = "2.0",
            description = "Seconds a simulated patch command takes on an instance. Default: ${DEFAULT-VALUE}.")
    double commandDelay;

    @Option(
            names = "--state-dir",
            defaultValue = "${env:PATCHPILOT_STATE_DIR}",
            description = {
                "Where the local AWS keeps its state (accounts, fleet, tags, commands, ledger, buckets, queues with",
                "their messages) across a stop and start; relative to the patchpilot home (env PATCHPILOT_STATE_DIR).",
                "A start that finds a previous start's state resumes it instead of deploying and launching again;",
                "delete the directory to start afresh. Saved at Ctrl-C and every 5 s: a kill -9 loses at most the",
                "last 5 s. Default: none, every start is a fresh one and a stop forgets everything."
            })
    Path stateDir;

    @Option(
            names = "--report-engine",
            defaultValue = "${env:PATCHPILOT_REPORT_ENGINE:-duckdb}",
            description = {
                "duckdb: reports run in this process (default); athena: through the Athena route to the local",
                "Athena, a real Trino server over the local Glue catalog and S3 (io.trino:trino-server, about",
                "820 MB, downloaded once into ~/.m2; needs a Java 24+ JDK on the machine). Default: ${DEFAULT-VALUE}."
            })
    String reportEngine;

    @Override
    public Integer call() throws Exception {
        if (!List.of("duckdb", "athena").contains(reportEngine))
            throw new ConfigException("--report-engine: '" + reportEngine + "' is not one of duckdb, athena");
        Path home = Home.resolve();
        Path fleetFile = fleet.isAbsolute() ? fleet : home.resolve(fleet);
        Path state = stateDir == null ? null : stateDir.isAbsolute() ? stateDir : home.resolve(stateDir);
        ServiceRunner runner = new ServiceRunner();
        LocalMode local = runner.open(LocalMode.start(
                new LocalMode.Options(
                        home,
                        fleetFile,
                        awsPort,
                        httpPort,
                        List.of("--command-delay", Double.toString(commandDelay)),
                        Map.of("patchpilot.report.engine", reportEngine),
                        state),
                stages(ProgressPrinter.console(System.out), System::nanoTime)));
        LocalAws aws = local.localAws();
        String reports = reportEngine.equals("athena")
                ? "the local Athena (aws athena … at the AWS endpoint), on Trino " + aws.athenaEngine(ATHENA_START)
                : "DuckDB in the service (--report-engine athena: the local Athena on Trino)";
        String env = "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=" + LocalAws.HUB_REGION;
        System.out.printf(
                """
                patchpilot local is up
                  AWS (moto):    %s   credentials test/test, hub account %s, region %s
                  SQS:           %s
                  Reports:       %s
                  State:         %s
                  Service:       http://127.0.0.1:%d/health
                  Mail (SMTP):   127.0.0.1:%d; every mail and Slack post is also written to %s
                  Fleet:         %d member accounts, %d regions, %d instances, %d AutoScaling groups (%s)
                  Stacks:        %s (hub.yaml) CREATE_COMPLETE; StackSet %s (member-stackset.yaml): %d stack instances; %.1f s
                  Not deployed locally (config/local/stacks.yaml):
                %s
                Try:
                  export %s
                  aws --endpoint-url %s sqs list-queues
                  aws --endpoint-url %s organizations list-accounts
                  aws --endpoint-url %s cloudformation describe-stacks --stack-name %s
                Ctrl-C stops the service and the local AWS.
                """,
                aws.endpoint(),
                LocalAws.HUB_ACCOUNT,
                LocalAws.HUB_REGION,
                aws.sqsEndpoint(),
                reports,
                state == null
                        ? "none: forgotten at the stop (--state-dir DIR keeps it)"
                        : state + " (kept across a stop and start; delete it to start afresh)",
                httpPort,
                local.mail().getSmtp().getPort(),
                local.outbox(),
                local.fleet().accounts(),
                local.fleet().regions(),
                local.fleet().instances(),
                local.fleet().groups(),
                fleetFile,
                local.deployment().hubStack(),
                local.deployment().memberStackSet(),
                local.deployment().stackInstances(),
                local.deployment().took().toMillis() / 1000.0,
                notDeployed(local),
                env,
                aws.sqsEndpoint(),
                aws.endpoint(),
                aws.endpoint(),
                local.deployment().hubStack());
        System.out.flush();
        return runner.awaitShutdown();
    }

    /**
     * Shows each start-up stage as it is done with the time it took: {@code stacks deployed in
     * 21.4 s: 3/5 start-up stages} (a bar on a terminal).
     */
    static Consumer<String> stages(ProgressPrinter printer, LongSupplier nanoTime) {
        long[] since = {nanoTime.getAsLong()};
        return stage -> {
            long now = nanoTime.getAsLong();
            String took = String.format(Locale.ROOT, "%.1f", (now - since[0]) / 1e9);
            since[0] = now;
            printer.show(Progress.steps(
                    stage + " in " + took + " s",
                    LocalMode.STAGES.indexOf(stage) + 1,
                    LocalMode.STAGES.size(),
                    "start-up stages"));
        };
    }

    private static String notDeployed(LocalMode local) {
        StringBuilder out = new StringBuilder();
        local.deployment()
                .notDeployed()
                .forEach((id, why) ->
                        out.append("    - ").append(id).append(": ").append(why).append('\n'));
        return out.toString().stripTrailing();
    }
}
