package io.patchpilot.ami;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.patchpilot.ami.AmiPipeline.Kind;
import io.patchpilot.ami.AmiPipeline.Step;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * One AutoScaling group's AMI pipeline as the steps an operator follows — build instance launched,
 * SSM-managed, patched, stopped, image available, launch template version, instance refresh (with
 * its percentage), scan, cleanup, or rollback — each with its status and times. Built from the
 * build's ledger item (its {@code history} of finished pipeline steps, written by
 * {@link AmiRefreshStep}, and the step it is at); the run page, {@code /api/runs/<id>} and
 * {@code patchpilot runs show} all render this one model. Pure.
 */
public final class AmiSteps {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a finished pipeline step came to, as recorded in the build's history. */
    static final String DONE = "done", FAILED = "failed", WARNING = "warning";

    public static final String STATUS_DONE = "Done",
            STATUS_RUNNING = "Running",
            STATUS_FAILED = "Failed",
            STATUS_WARNING = "Warning",
            STATUS_PENDING = "Pending",
            STATUS_NOT_REACHED = "NotReached",
            STATUS_SKIPPED = "Skipped";

    private AmiSteps() {}

    /** One step an operator sees; times are ISO-8601 or null when not (yet) known. */
    public record View(String name, String status, String startedAt, String endedAt, Integer percent, String detail) {}

    /** A group of a run: where its build is, what it made, and its steps. */
    public record Group(
            String account,
            String region,
            String group,
            String state,
            String reason,
            String failedStep,
            String warning,
            String cleanupProblems,
            String sourceImage,
            String image,
            String launchTemplate,
            String sourceVersion,
            String newVersion,
            String refreshId,
            List<View> steps) {}

    private record Phase(String name, Set<Step> steps) {}

    private static final List<Phase> PHASES = List.of(
            new Phase("Build instance launched", Set.of(Step.RESOLVE, Step.LAUNCH)),
            new Phase("SSM-managed", Set.of(Step.WAIT_MANAGED)),
            new Phase("Patched", Set.of(Step.INSTALL, Step.WAIT_INSTALL)),
            new Phase("Stopped", Set.of(Step.STOP, Step.WAIT_STOPPED)),
            new Phase("Image available", Set.of(Step.IMAGE, Step.WAIT_IMAGE, Step.TERMINATE)),
            new Phase("Launch template version", Set.of(Step.VERSION)),
            new Phase("Instance refresh", Set.of(Step.REFRESH, Step.WAIT_REFRESH, Step.PUBLISH)),
            new Phase("Scan", Set.of(Step.SCAN, Step.WAIT_SCAN)),
            new Phase("Cleanup", Set.of(Step.RETENTION, Step.PRUNE)),
            new Phase(
                    "Rollback",
                    Set.of(
                            Step.ROLLBACK_REFRESH,
                            Step.WAIT_ROLLBACK,
                            Step.RESTORE_GROUP,
                            Step.DELETE_VERSION,
                            Step.DELETE_IMAGE,
                            Step.TERMINATE_BUILD)));

    /** One finished step for the history: {@code {"step","startedAt","endedAt","result"[,"reason"]}}. */
    static String append(String history, Step step, Instant startedAt, Instant endedAt, String result, String reason) {
        ArrayNode a = history == null || history.isEmpty() ? JSON.createArrayNode() : (ArrayNode) read(history);
        var o = a.addObject()
                .put("step", step.label())
                .put("startedAt", startedAt.toString())
                .put("endedAt", endedAt.toString())
                .put("result", result);
        if (reason != null && !reason.isEmpty()) o.put("reason", reason);
        return a.toString();
    }

    public static Group group(Map<String, AttributeValue> item) {
        AmiBuild b = new AmiBuild("", item);
        return new Group(
                b.get(AmiBuild.ACCOUNT),
                b.get(AmiBuild.REGION),
                b.group(),
                b.get(AmiBuild.STATE),
                b.get(AmiBuild.REASON),
                b.get(AmiBuild.FAILED_STEP),
                b.get(AmiBuild.WARNING),
                b.get(AmiBuild.CLEANUP),
                b.get(AmiBuild.SOURCE_AMI),
                b.get(AmiBuild.IMAGE),
                b.get(AmiBuild.LT_ID),
                b.get(AmiBuild.SOURCE_VERSION),
                b.get(AmiBuild.NEW_VERSION),
                b.get(AmiBuild.REFRESH_ID),
                steps(b));
    }

    /** The steps of a build; none for a group the run did not build (skipped, needs migration, unsupported). */
    static List<View> steps(AmiBuild b) {
        Step current = known(b.get(AmiBuild.STATE));
        if (current == null) return List.of();
        // a build recorded before its steps were kept: its state and facts only
        if (!b.has(AmiBuild.HISTORY) && current != Step.RESOLVE) return List.of();
        List<JsonNode> history = new ArrayList<>();
        if (b.has(AmiBuild.HISTORY)) read(b.get(AmiBuild.HISTORY)).forEach(history::add);
        boolean ended = current.ended();
        boolean rolledBack = current == Step.FAILED || current.kind() == Kind.CLEANUP;
        List<View> out = new ArrayList<>();
        for (Phase p : PHASES) {
            List<JsonNode> mine = history.stream()
                    .filter(h -> p.steps().contains(known(h.path("step").asText())))
                    .toList();
            boolean here = p.steps().contains(current);
            boolean rollback = p.name().equals("Rollback");
            if (rollback && mine.isEmpty() && !here) continue; // nothing was undone
            String name = p.name();
            if (p.steps().contains(Step.PUBLISH) && !b.refresh()) name = "Group on the new version (no refresh)";
            String startedAt =
                    mine.isEmpty() ? null : mine.get(0).path("startedAt").asText();
            String endedAt = mine.isEmpty()
                    ? null
                    : mine.get(mine.size() - 1).path("endedAt").asText();
            String detail = "";
            String status;
            if (here) {
                status = STATUS_RUNNING;
                if (startedAt == null) startedAt = b.get(AmiBuild.STEP_AT);
                endedAt = null;
                detail = b.get(AmiBuild.NOTE);
                if (detail.isEmpty()) detail = current.description();
            } else if (!mine.isEmpty()) {
                JsonNode failed = last(mine, FAILED);
                JsonNode warned = last(mine, WARNING);
                status = failed != null ? STATUS_FAILED : warned != null ? STATUS_WARNING : STATUS_DONE;
                JsonNode why = failed != null ? failed : warned;
                if (why != null)
                    detail = why.path("step").asText() + ": "
                            + why.path("reason").asText();
            } else if (p.steps().contains(Step.SCAN) && !b.refresh()) {
                status = STATUS_SKIPPED;
                detail = "no instance refresh requested";
            } else {
                status = ended || rolledBack ? STATUS_NOT_REACHED : STATUS_PENDING;
            }
            if (detail.isEmpty() && status.equals(STATUS_DONE)) detail = made(p, b);
            out.add(new View(name, status, startedAt, endedAt, percent(p, b, status), detail));
        }
        return out;
    }

    /** What a finished step produced, in words. */
    private static String made(Phase p, AmiBuild b) {
        return switch (p.name()) {
            case "Build instance launched", "SSM-managed" -> b.get(AmiBuild.INSTANCE);
            case "Patched" -> b.has(AmiBuild.INSTALL_COMMAND) ? "command " + b.get(AmiBuild.INSTALL_COMMAND) : "";
            case "Image available" -> b.get(AmiBuild.IMAGE);
            case "Launch template version" ->
                b.get(AmiBuild.LT_ID) + " version " + b.get(AmiBuild.SOURCE_VERSION) + " → "
                        + b.get(AmiBuild.NEW_VERSION);
            case "Instance refresh" -> b.get(AmiBuild.REFRESH_ID);
            case "Scan" -> b.get(AmiBuild.SCAN_RESULT);
            case "Cleanup" -> b.has(AmiBuild.PRUNED) ? "removed old images " + b.get(AmiBuild.PRUNED) : "";
            default -> "";
        };
    }

    /** The instance refresh's percentage complete, as the last poll read it (100 once it succeeded). */
    private static Integer percent(Phase p, AmiBuild b, String status) {
        if (!p.steps().contains(Step.WAIT_REFRESH) || !b.refresh()) return null;
        if (status.equals(STATUS_DONE)) return 100;
        if (!b.has(AmiBuild.REFRESH_PERCENT)) return status.equals(STATUS_RUNNING) ? 0 : null;
        return Integer.parseInt(b.get(AmiBuild.REFRESH_PERCENT));
    }

    private static JsonNode last(List<JsonNode> entries, String result) {
        JsonNode found = null;
        for (JsonNode e : entries) if (e.path("result").asText().equals(result)) found = e;
        return found;
    }

    private static Step known(String label) {
        for (Step s : Step.values()) if (s.label().equals(label)) return s;
        return null;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("AMI build history is not JSON: " + e.getOriginalMessage());
        }
    }
}
