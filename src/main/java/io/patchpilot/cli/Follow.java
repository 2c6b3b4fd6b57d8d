package io.patchpilot.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.console.Progress;
import io.patchpilot.console.ProgressPrinter;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.report.ReportRuns;
import io.patchpilot.tagging.ReconcileSweep;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Follows long work (a patch run, a report run, a reconcile sweep) from the ledger to its end,
 * shown by {@link ProgressPrinter}: on a terminal a bar of the account-regions done, instances
 * patched and failed, reports written; in a pipe or CI a plain line whenever something changed. The exit
 * code is that of {@code runs show --follow}: 0 when the work succeeded, 1 when it ended otherwise
 * (failures, Blocked, Rejected, Expired) or never appeared.
 */
final class Follow {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> RUN_ENDED =
            Set.of("Succeeded", "CompletedWithFailures", "Blocked", "Rejected", "Expired");
    private static final Set<String> FAILED = Set.of("Failed", "TimedOut", "Cancelled", "Undeliverable");

    private final PrintStream out;
    private final boolean terminal;
    private final Duration every;
    private final Duration appearWithin;

    Follow(PrintStream out, boolean terminal, Duration every, Duration appearWithin) {
        this.out = out;
        this.terminal = terminal;
        this.every = every;
        this.appearWithin = appearWithin;
    }

    /** For a command run by a person or a script: a bar on a terminal, plain lines elsewhere. */
    static Follow forConsole() {
        return new Follow(System.out, System.console() != null, Duration.ofSeconds(2), Duration.ofMinutes(2));
    }

    /** Polls until the work ends; returns the exit code. {@code hint}: where to look when it never appears. */
    int follow(String what, Supplier<Optional<Progress>> poll, String hint) throws InterruptedException {
        Instant giveUp = Instant.now().plus(appearWithin);
        String last = null;
        Optional<Progress> p = poll.get();
        while (p.isEmpty()) {
            if (Instant.now().isAfter(giveUp)) {
                out.println(what + " did not start within " + appearWithin.toSeconds() + " s: " + hint);
                return ExitCode.FAILED;
            }
            if (last == null) out.println(last = "waiting for the service to start " + what);
            TimeUnit.MILLISECONDS.sleep(every.toMillis());
            p = poll.get();
        }
        ProgressPrinter printer = new ProgressPrinter(out, terminal);
        while (true) {
            Progress now = p.orElseThrow();
            printer.show(now);
            if (now.ended()) {
                out.println(what + " " + now.status() + (now.note().isEmpty() ? "" : ": " + now.note()));
                return now.succeeded() ? ExitCode.OK : ExitCode.FAILED;
            }
            TimeUnit.MILLISECONDS.sleep(every.toMillis());
            Optional<Progress> next = poll.get();
            if (next.isPresent()) p = next;
        }
    }

    /** A patch run (window, manual or emergency): its account-regions and instance outcomes. */
    static Supplier<Optional<Progress>> patchRun(Ledger ledger, String runId) {
        return () -> ledger.get(RunKeys.pk(runId), RunKeys.RUN).map(run -> {
            long patched = 0;
            long failed = 0;
            for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
                if (!t.containsKey("instances")) continue;
                for (Iterator<JsonNode> it = read(t.get("instances").s()).elements(); it.hasNext(); ) {
                    String status = it.next().path("status").asText();
                    if (status.equals("Success")) patched++;
                    if (FAILED.contains(status)) failed++;
                }
            }
            String status = run.get("status").s();
            String note = List.of("reason", "note").stream()
                    .filter(k -> run.containsKey(k) && !run.get(k).s().isEmpty())
                    .map(k -> run.get(k).s())
                    .findFirst()
                    .orElse("");
            return new Progress(
                    status,
                    number(run, "targetsDone"),
                    number(run, "targetsTotal"),
                    "account-regions and groups",
                    patched,
                    failed,
                    -1,
                    RUN_ENDED.contains(status),
                    status.equals("Succeeded"),
                    note);
        });
    }

    /** A report run: the account-regions collected, then the reports written, until published. */
    static Supplier<Optional<Progress>> report(Ledger ledger, String reportId) {
        return () -> ledger.get(ReportRuns.pk(reportId), ReportRuns.REPORT).map(run -> {
            var items = ledger.partition(ReportRuns.pk(reportId));
            long written = items.stream()
                    .filter(i -> i.get("sk").s().startsWith(ReportRuns.CSV_PREFIX))
                    .count();
            // reports whose query failed for good (the others are published): named with the engine's reason
            List<String> failed = items.stream()
                    .filter(i -> i.get("sk").s().startsWith(ReportRuns.FAILED_PREFIX))
                    .map(i -> i.get("sk").s().substring(ReportRuns.FAILED_PREFIX.length()) + " Failed: "
                            + i.get("reason").s())
                    .toList();
            String status = run.get("status").s();
            return new Progress(
                    status,
                    number(run, "collectDone"),
                    number(run, "collectTotal"),
                    "account-regions",
                    -1,
                    failed.isEmpty() ? -1 : failed.size(),
                    written,
                    status.equals("Published"),
                    status.equals("Published") && failed.isEmpty(),
                    String.join("; ", failed));
        });
    }

    /** A reconcile sweep: its account-regions done or failed. */
    static Supplier<Optional<Progress>> sweep(Ledger ledger, String sweepId) {
        return () -> ledger.get(ReconcileSweep.pk(sweepId), ReconcileSweep.SWEEP)
                .map(s -> {
                    long done = number(s, "done");
                    long failed = number(s, "failed");
                    long total = number(s, "total");
                    boolean ended = done + failed >= total;
                    String status = !ended ? "Running" : failed == 0 ? "Done" : "DoneWithFailures";
                    return new Progress(
                            status,
                            done + failed,
                            total,
                            "account-regions",
                            -1,
                            failed,
                            -1,
                            ended,
                            failed == 0,
                            failed == 0 ? "" : failed + " account-regions failed (see 'patchpilot dlq list work')");
                });
    }

    private static long number(Map<String, AttributeValue> item, String attribute) {
        return item.containsKey(attribute) ? Long.parseLong(item.get(attribute).n()) : 0;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
