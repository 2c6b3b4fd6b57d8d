package io.patchpilot.patching;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.errors.AwsErrors;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.CommandInvocation;
import software.amazon.awssdk.services.ssm.model.CommandPlugin;
import software.amazon.awssdk.services.ssm.model.GetCommandInvocationResponse;
import software.amazon.awssdk.services.ssm.model.InstancePatchState;

/**
 * What one instance's patch command did, for the people who read the run: the command, its document,
 * when it started and ended (all from the ListCommandInvocations page the poll reads anyway, with
 * details), and for anything not Success the invocation's own reason (GetCommandInvocation: status
 * details, response code), the last {@value #TAIL_LINES} lines of its output and where SSM wrote the
 * full output.
 */
final class InvocationDetail {
    static final int TAIL_LINES = 40;
    /** A tail is at most this long, so an account-region's item stays far below DynamoDB's 400 KB. */
    static final int TAIL_CHARS = 4000;
    /** Failed instances per account-region whose output is read (one GetCommandInvocation each). */
    static final int READ_PER_TARGET = 20;
    /** DescribeInstancePatchStates takes at most 50 instance ids. */
    static final int IDS_PER_CALL = 50;

    private InvocationDetail() {}

    /** The S3 folder SSM writes an invocation's output to (OutputS3BucketName/KeyPrefix, then command, instance). */
    static String outputLocation(String bucket, String keyPrefix, String commandId, String instanceId) {
        return "s3://" + bucket + "/" + keyPrefix + "/" + commandId + "/" + instanceId + "/";
    }

    static String keyPrefix(AccountRegion target, String runId) {
        return "patching/accountid=" + target.account() + "/region=" + target.region() + "/run=" + runId;
    }

    /** Command id, document, started/ended and response code from a detailed ListCommandInvocations row. */
    static void fromListing(ObjectNode o, CommandInvocation inv) {
        o.put("commandId", inv.commandId()).put("document", inv.documentName());
        List<CommandPlugin> plugins = inv.commandPlugins();
        CommandPlugin p = plugins == null || plugins.isEmpty() ? null : plugins.get(0);
        Instant started = p == null ? null : p.responseStartDateTime();
        Instant ended = p == null ? null : p.responseFinishDateTime();
        if (started != null) o.put("startedAt", started.toString());
        if (ended != null) o.put("endedAt", ended.toString());
        if (p != null && p.responseCode() != null && p.responseCode() >= 0) o.put("responseCode", p.responseCode());
    }

    /**
     * The why of an instance that did not succeed: status details and response code from
     * GetCommandInvocation, the tail of its output, and the output's S3 location — or, when there is
     * no output to show, {@code outputUnavailable} with the reason.
     */
    static void why(ObjectNode o, SsmClient ssm, String instanceId, String location) {
        String commandId = o.path("commandId").asText();
        o.put("outputLocation", location);
        GetCommandInvocationResponse got;
        try {
            got = ssm.getCommandInvocation(r -> r.commandId(commandId).instanceId(instanceId));
        } catch (RuntimeException e) {
            o.put(
                    "outputUnavailable",
                    "GetCommandInvocation failed: "
                            + AwsErrors.code(e).orElse(e.getClass().getSimpleName()) + ": "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            return;
        }
        if (got.statusDetails() != null) o.put("statusDetails", got.statusDetails());
        if (got.responseCode() != null && got.responseCode() >= 0) o.put("responseCode", got.responseCode());
        String out = nullToEmpty(got.standardOutputContent());
        String err = nullToEmpty(got.standardErrorContent());
        String text = out + (err.isEmpty() ? "" : (out.isEmpty() || out.endsWith("\n") ? "" : "\n") + err);
        if (text.isBlank()) {
            o.put("outputUnavailable", noOutputReason(got.statusDetails()));
            return;
        }
        o.put("outputTail", tail(text));
        // the reason says what went wrong, not only the status: the output's last word on it
        String last = lastLine(err.isBlank() ? out : err);
        String code = o.has("responseCode")
                ? " (response code " + o.path("responseCode").asInt() + ")"
                : "";
        o.put("reason", o.path("reason").asText() + code + (last.isEmpty() ? "" : ": " + last));
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        return last.length() <= 300 ? last : last.substring(0, 300) + "…";
    }

    /** Why an ended invocation printed nothing, from its status details. */
    static String noOutputReason(String statusDetails) {
        String d = statusDetails == null ? "" : statusDetails;
        return switch (d) {
            case "Terminated" ->
                "the command never ran here: it was cancelled (MaxErrors reached) before this instance's turn";
            case "Undeliverable" -> "the command never reached the instance (agent not reachable or instance gone)";
            case "DeliveryTimedOut" -> "the command was not delivered before its timeout (agent lost)";
            case "ExecutionTimedOut" -> "the command timed out before it wrote any output";
            default -> "the invocation reported no output (status details: " + (d.isEmpty() ? "none" : d) + ")";
        };
    }

    /**
     * Each commanded instance's patch counts after the command (DescribeInstancePatchStates, 50 ids a
     * call): installed, installed-other, installed-pending-reboot, missing, failed, not-applicable.
     * An instance SSM has no state for, or every one when the call fails, reads {@code unknown} with
     * the reason — never 0.
     */
    static void patchStates(SsmClient ssm, Map<String, ObjectNode> instances) {
        List<String> ids = instances.entrySet().stream()
                .filter(e -> e.getValue().has("commandId"))
                .map(Map.Entry::getKey)
                .toList();
        Map<String, InstancePatchState> states = new HashMap<>();
        String failure = null;
        for (int i = 0; i < ids.size() && failure == null; i += IDS_PER_CALL) {
            List<String> chunk = ids.subList(i, Math.min(ids.size(), i + IDS_PER_CALL));
            try {
                ssm.describeInstancePatchStatesPaginator(
                                r -> r.instanceIds(chunk).maxResults(IDS_PER_CALL))
                        .instancePatchStates()
                        .forEach(st -> states.put(st.instanceId(), st));
            } catch (RuntimeException e) {
                failure = "DescribeInstancePatchStates failed: "
                        + AwsErrors.code(e).orElse(e.getClass().getSimpleName());
            }
        }
        for (String id : ids) {
            ObjectNode o = instances.get(id);
            InstancePatchState st = states.get(id);
            if (st == null) {
                o.put("patchState", "unknown")
                        .put(
                                "patchStateReason",
                                failure != null ? failure : "SSM reports no patch state for the instance");
                continue;
            }
            o.put("patchState", "known");
            o.putObject("patches")
                    .put("installed", st.installedCount())
                    .put("installedOther", st.installedOtherCount())
                    .put("installedPendingReboot", st.installedPendingRebootCount())
                    .put("missing", st.missingCount())
                    .put("failed", st.failedCount())
                    .put("notApplicable", st.notApplicableCount());
        }
    }

    /** The last {@value #TAIL_LINES} lines, and at most {@value #TAIL_CHARS} characters of them. */
    static String tail(String text) {
        List<String> lines = text.lines().toList();
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        return tail.length() <= TAIL_CHARS ? tail : "…" + tail.substring(tail.length() - TAIL_CHARS);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
