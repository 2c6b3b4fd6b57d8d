package io.patchpilot.patching;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.ami.AmiBuild;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.windows.WindowNames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * What a run came to, with one meaning per count: account-regions done of the account-regions in
 * scope; instance outcomes; AutoScaling group outcomes on their own (never among the instances); and
 * what needs attention. The run page, {@code patchpilot runs show}, the mail and the Slack post all
 * render this one model, so they give the same figures.
 *
 * @param window the window as people know it ({@code Default_maintenance_window (organization)})
 * @param accountRegions account-regions by state (Done, Failed, CutOff, RegionNotEnabled; Discovering or Sent while running)
 * @param instances instances by outcome (Success, Failed, TimedOut, Cancelled, Undeliverable, Skipped; Pending while running)
 * @param groups AutoScaling groups by outcome (Refreshed, Published, RolledBack, Failed, Skipped, NeedsMigration, Unsupported, InProgress)
 * @param problems the first of what needs attention; {@code problemsTotal} says how many there are
 */
public record RunFigures(
        String runId,
        String window,
        String status,
        String occurrence,
        long accountRegionsDone,
        long accountRegionsTotal,
        Map<String, Long> accountRegions,
        Map<String, Long> instances,
        Map<String, Long> groups,
        List<Problem> problems,
        int problemsTotal) {

    /** A failed instance, account-region or AutoScaling group, for the list of what needs attention. */
    public record Problem(String account, String region, String resource, String status, String reason, String output) {
        public Problem(String account, String region, String resource, String status, String reason) {
            this(account, region, resource, status, reason, "");
        }
    }

    /** Instance outcomes that are failures. */
    public static final Set<String> FAILED_INSTANCE = Set.of("Failed", "TimedOut", "Undeliverable", "Cancelled");
    /** Group outcomes that are failures: not patched, or rolled back. */
    public static final Set<String> FAILED_GROUP = Set.of("Failed", "RolledBack", "NeedsMigration", "Unsupported");
    /** Account-region states that are failures. */
    static final Set<String> FAILED_TARGET = Set.of("Failed", "TimedOut", "Undeliverable", "Cancelled");
    /** Account-region states of a step still at work. */
    private static final Set<String> WORKING = Set.of("Discovering", "Sent");

    public RunFigures {
        // kept figures leave their problems out: read back, they have none
        accountRegions = accountRegions == null ? Map.of() : Map.copyOf(accountRegions);
        instances = instances == null ? Map.of() : Map.copyOf(instances);
        groups = groups == null ? Map.of() : Map.copyOf(groups);
        problems = problems == null ? List.of() : List.copyOf(problems);
    }

    public long patched() {
        return instances.getOrDefault("Success", 0L);
    }

    public long failed() {
        return FAILED_INSTANCE.stream()
                .mapToLong(s -> instances.getOrDefault(s, 0L))
                .sum();
    }

    public long skipped() {
        return instances.getOrDefault("Skipped", 0L);
    }

    /** {@code 7 of 8 account-regions done (Done 6, Failed 1)}. */
    public String accountRegionsLine() {
        return accountRegionsDone + " of " + accountRegionsTotal + " account-regions done"
                + (accountRegions.isEmpty() ? "" : " (" + join(accountRegions) + ")");
    }

    /** {@code 5 patched, 1 failed, 4 skipped (Failed 1, Skipped 4, Success 5)}. */
    public String instancesLine() {
        return patched() + " patched, " + failed() + " failed, " + skipped() + " skipped"
                + (instances.isEmpty() ? "" : " (" + join(instances) + ")");
    }

    /** {@code Refreshed 1, Skipped 1}, or {@code none}. */
    public String groupsLine() {
        return groups.isEmpty() ? "none" : join(groups);
    }

    private static String join(Map<String, Long> counts) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(counts)
                .forEach((k, v) -> out.append(out.isEmpty() ? "" : ", ")
                        .append(k)
                        .append(' ')
                        .append(v));
        return out.toString();
    }

    /**
     * The figures of a run from its ledger items: the run item and every item of its partition.
     * At most {@code limit} problems are kept (all are counted).
     */
    public static RunFigures of(Map<String, AttributeValue> run, List<Map<String, AttributeValue>> items, int limit) {
        Map<String, Long> targets = new LinkedHashMap<>();
        Map<String, Long> instances = new LinkedHashMap<>();
        Map<String, Long> groups = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        long done = 0;
        for (Map<String, AttributeValue> item : items) {
            String sk = item.get("sk").s();
            if (sk.startsWith(AmiBuild.PREFIX)) {
                String outcome = groupOutcome(Ledger.text(item, "state"), Ledger.text(item, "reason"));
                groups.merge(outcome, 1L, Long::sum);
                if (FAILED_GROUP.contains(outcome))
                    problems.add(new Problem(
                            Ledger.text(item, "account"),
                            Ledger.text(item, "region"),
                            "asg " + Ledger.text(item, "group"),
                            outcome,
                            Ledger.text(item, "reason")));
                continue;
            }
            if (!sk.startsWith("TARGET#")) continue;
            String account = Ledger.text(item, "account");
            String region = Ledger.text(item, "region");
            String state = Ledger.text(item, "state");
            targets.merge(state, 1L, Long::sum);
            if (!WORKING.contains(state)) done++;
            if (FAILED_TARGET.contains(state))
                problems.add(new Problem(account, region, "account-region", state, Ledger.text(item, "reason")));
            if (item.containsKey("instances")) {
                PatchRuns.read(item.get("instances").s()).properties().forEach(e -> {
                    String status = e.getValue().path("status").asText();
                    instances.merge(status, 1L, Long::sum);
                    if (FAILED_INSTANCE.contains(status))
                        problems.add(new Problem(
                                account,
                                region,
                                e.getKey(),
                                status,
                                e.getValue().path("reason").asText(""),
                                output(e.getValue())));
                });
            }
        }
        long total = scopeSize(run);
        // an account-region outside the recorded scope cannot happen; the count never says more done than there are
        total = Math.max(
                total, targets.values().stream().mapToLong(Long::longValue).sum());
        String window = run.containsKey("window") ? run.get("window").s() : "";
        return new RunFigures(
                Ledger.text(run, "runId"),
                WindowNames.display(window),
                Ledger.text(run, "status"),
                Ledger.text(run, "occurrence"),
                Math.min(done, total),
                total,
                targets,
                instances,
                groups,
                problems.size() > limit ? problems.subList(0, limit) : problems,
                problems.size());
    }

    /** Where an instance's full output is, and/or why it cannot be shown. */
    static String output(JsonNode instance) {
        String location = instance.path("outputLocation").asText("");
        String unavailable = instance.path("outputUnavailable").asText("");
        if (unavailable.isEmpty()) return location;
        return "output unavailable: " + unavailable
                + (location.isEmpty() || unavailable.contains(location) ? "" : " (" + location + ")");
    }

    /**
     * A group's outcome: its end state; a failed build whose instance refresh AWS rolled back is
     * {@code RolledBack} (its instances are back on their previous version); a group still building
     * is {@code InProgress}.
     */
    static String groupOutcome(String state, String reason) {
        return switch (state) {
            case "Refreshed", "Published", "Skipped", "NeedsMigration", "Unsupported" -> state;
            case "Failed" -> reason.contains("Rollback") ? "RolledBack" : "Failed";
            default -> "InProgress";
        };
    }

    private static long scopeSize(Map<String, AttributeValue> run) {
        if (!run.containsKey("scope")) return 0;
        JsonNode scope = PatchRuns.read(run.get("scope").s());
        return scope.size();
    }
}
