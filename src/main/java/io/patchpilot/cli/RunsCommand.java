package io.patchpilot.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.ami.AmiProgress;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.patching.RunFigures;
import io.patchpilot.patching.RunText;
import io.patchpilot.windows.WindowNames;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

@Command(
        name = "runs",
        mixinStandardHelpOptions = true,
        description = "Patch runs, from the ledger.",
        subcommands = {RunsCommand.ListRuns.class, RunsCommand.Show.class})
final class RunsCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PROBLEMS_SHOWN = 20;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "The most recent runs with their status and counts.")
    static final class ListRuns implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Option(names = "--limit", defaultValue = "20", description = "How many runs. Default: ${DEFAULT-VALUE}.")
        int limit;

        @Override
        public Integer call() {
            PatchpilotConfig config = target.config(target.settings());
            try (AwsClients aws = target.clients(config)) {
                Ledger ledger = new Ledger(aws, config.ledgerTable());
                List<Map<String, AttributeValue>> index = ledger.partition(RunKeys.INDEX);
                for (Map<String, AttributeValue> entry :
                        index.subList(Math.max(0, index.size() - limit), index.size())) {
                    String runId = entry.get("runId").s();
                    ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                            .ifPresent(run -> System.out.printf(
                                    "%-40s %-48s %-22s %s%n",
                                    runId,
                                    WindowNames.display(run.get("window").s()),
                                    run.get("status").s(),
                                    run.containsKey("figures")
                                            ? listLine(run.get("figures").s())
                                            : progress(run)));
                }
                if (index.isEmpty()) System.out.println("no runs yet");
                return ExitCode.OK;
            }
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = {
                "One run: per account/region and per instance. With --follow, a progress line until the run ends.",
                "Exit code: 0 when the run succeeded (or is still going, without --follow), 1 when it completed with failures",
                "or ended without patching (Blocked, Rejected, Expired)."
            })
    static final class Show implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Parameters(index = "0", paramLabel = "RUN")
        String runId;

        @Option(names = "--follow", description = "Wait for the run to end, printing its progress.")
        boolean follow;

        @Override
        public Integer call() throws InterruptedException {
            PatchpilotConfig config = target.config(target.settings());
            try (AwsClients aws = target.clients(config)) {
                Ledger ledger = new Ledger(aws, config.ledgerTable());
                Map<String, AttributeValue> run = ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .orElseThrow(() -> new ConfigException(runId + ": no such run (see 'patchpilot runs list')"));
                while (follow && !ended(run)) {
                    System.out.println(progressLine(ledger, run));
                    TimeUnit.SECONDS.sleep(2);
                    run = ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
                }
                System.out.printf(
                        "run %s  window %s  occurrence %s  status %s%n",
                        runId,
                        WindowNames.display(run.get("window").s()),
                        run.get("occurrence").s(),
                        run.get("status").s());
                for (String k : List.of("reason", "requester", "approver", "note")) {
                    if (run.containsKey(k) && !run.get(k).s().isEmpty())
                        System.out.printf("  %s: %s%n", k, run.get(k).s());
                }
                for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
                    if (AmiProgress.isGroup(t)) AmiProgress.lines(t).forEach(System.out::println);
                    if (!t.get("sk").s().startsWith("TARGET#")) continue;
                    String reason =
                            t.containsKey("reason") && !t.get("reason").s().isEmpty()
                                    ? "  (" + t.get("reason").s() + ")"
                                    : "";
                    System.out.printf(
                            "  %s/%s  %s%s%n",
                            t.get("account").s(),
                            t.get("region").s(),
                            t.get("state").s(),
                            reason);
                    if (!t.containsKey("instances")) continue;
                    read(t.get("instances").s()).properties().forEach(e -> {
                        JsonNode i = e.getValue();
                        System.out.printf(
                                "    %-22s %-12s %s%n",
                                e.getKey(),
                                i.path("status").asText(),
                                i.path("reason").asText());
                        if (i.has("patches"))
                            System.out.println("      patches after: "
                                    + i.path("patches").toString().replaceAll("[{}\"]", ""));
                        else if (i.path("patchState").asText().equals("unknown"))
                            System.out.println("      patches after: unknown ("
                                    + i.path("patchStateReason").asText() + ")");
                        String status = i.path("status").asText();
                        if (status.equals("Success") || status.equals("Skipped")) return;
                        // the why: the command, the output's last lines, where all of it is
                        if (i.has("commandId"))
                            System.out.printf(
                                    "      command %s (%s) %s → %s%n",
                                    i.path("commandId").asText(),
                                    i.path("document").asText(),
                                    i.path("startedAt").asText("?"),
                                    i.path("endedAt").asText("?"));
                        if (i.has("outputTail"))
                            i.path("outputTail").asText().lines().forEach(l -> System.out.println("      | " + l));
                        if (i.has("outputUnavailable"))
                            System.out.println("      output unavailable: "
                                    + i.path("outputUnavailable").asText());
                        if (i.has("outputLocation"))
                            System.out.println("      full output: "
                                    + i.path("outputLocation").asText());
                    });
                }
                RunText.lines(RunFigures.of(run, ledger.partition(RunKeys.pk(runId)), PROBLEMS_SHOWN)).stream()
                        .skip(1) // the window is on the first line already
                        .forEach(System.out::println);
                String status = run.get("status").s();
                return status.equals("Succeeded") || !ended(run) ? ExitCode.OK : ExitCode.FAILED;
            }
        }

        /** Ended: patched (with or without failures), or never patched (blocked, rejected, expired). */
        private static boolean ended(Map<String, AttributeValue> run) {
            return List.of("Succeeded", "CompletedWithFailures", "Blocked", "Rejected", "Expired")
                    .contains(run.get("status").s());
        }

        private static String progressLine(Ledger ledger, Map<String, AttributeValue> run) {
            Map<String, Integer> instances = new TreeMap<>();
            Map<String, Integer> groups = new TreeMap<>();
            for (Map<String, AttributeValue> t :
                    ledger.partition(RunKeys.pk(run.get("runId").s()))) {
                if (t.containsKey("instances"))
                    read(t.get("instances").s())
                            .elements()
                            .forEachRemaining(
                                    o -> instances.merge(o.path("status").asText(), 1, Integer::sum));
                if (AmiProgress.isGroup(t)) groups.merge(AmiProgress.state(t), 1, Integer::sum);
            }
            return progress(run) + "  instances " + instances + (groups.isEmpty() ? "" : "  groups " + groups);
        }
    }

    /** An ended run in the list: its instance outcomes and groups, from the figures kept with it. */
    static String listLine(String figures) {
        try {
            RunFigures f = JSON.readValue(figures, RunFigures.class);
            return f.accountRegionsDone() + "/" + f.accountRegionsTotal() + " account-regions  instances: "
                    + f.instancesLine() + "  groups: " + f.groupsLine();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String progress(Map<String, AttributeValue> run) {
        long done = Long.parseLong(run.get("targetsDone").n());
        long total = Long.parseLong(run.get("targetsTotal").n());
        int width = 20;
        int filled = total == 0 ? width : (int) (width * done / total);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total
                + " account-regions and groups";
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
