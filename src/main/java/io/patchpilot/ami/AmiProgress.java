package io.patchpilot.ami;

import io.patchpilot.ami.AmiPipeline.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** How {@code patchpilot runs show} prints one AutoScaling group of a run: where its build is, what it made. */
public final class AmiProgress {
    private AmiProgress() {}

    public static boolean isGroup(Map<String, AttributeValue> item) {
        return AmiBuild.isBuild(item);
    }

    /** The group's state: its step (Refreshed, Failed, WaitRefresh, …), or Skipped / NeedsMigration / Unsupported. */
    public static String state(Map<String, AttributeValue> item) {
        return item.get(AmiBuild.STATE).s();
    }

    /**
     * <pre>
     *   111111111111/us-east-1  asg dev-web-asg  WaitRefresh  following the instance refresh (… 50 %)
     *     image ami-0src → ami-0new  lt-0abc version 1 → 2  refresh 5d1f…
     * </pre>
     */
    public static List<String> lines(Map<String, AttributeValue> item) {
        AmiBuild b = new AmiBuild("", item);
        List<String> out = new ArrayList<>();
        String state = b.get(AmiBuild.STATE);
        String head =
                "  " + b.get(AmiBuild.ACCOUNT) + "/" + b.get(AmiBuild.REGION) + "  asg " + b.group() + "  " + state;
        Step step = known(state);
        if (step == null) {
            out.add(head + "  (" + b.get(AmiBuild.REASON) + ")");
            return out;
        }
        if (step == Step.FAILED) {
            head += "  (at " + b.get(AmiBuild.FAILED_STEP) + ": " + b.get(AmiBuild.REASON) + ")";
        } else if (!step.ended()) {
            head += "  " + step.description() + (b.has(AmiBuild.NOTE) ? " (" + b.get(AmiBuild.NOTE) + ")" : "");
            if (b.has(AmiBuild.REASON))
                head += "  [cleaning up after " + b.get(AmiBuild.FAILED_STEP) + ": " + b.get(AmiBuild.REASON) + "]";
        }
        out.add(head);
        String indent = step == Step.FAILED ? "    undone: " : "    ";
        StringBuilder made = new StringBuilder(indent);
        if (b.has(AmiBuild.SOURCE_AMI))
            made.append("image ")
                    .append(b.get(AmiBuild.SOURCE_AMI))
                    .append(" → ")
                    .append(b.has(AmiBuild.IMAGE) ? b.get(AmiBuild.IMAGE) : "…");
        if (b.has(AmiBuild.SOURCE_VERSION)) {
            made.append("  ")
                    .append(b.get(AmiBuild.LT_ID))
                    .append(" version ")
                    .append(b.get(AmiBuild.SOURCE_VERSION))
                    .append(" → ")
                    .append(b.has(AmiBuild.NEW_VERSION) ? b.get(AmiBuild.NEW_VERSION) : "…");
        }
        if (b.has(AmiBuild.INSTANCE) && !step.ended())
            made.append("  temporary instance ").append(b.get(AmiBuild.INSTANCE));
        if (b.has(AmiBuild.REFRESH_ID)) made.append("  refresh ").append(b.get(AmiBuild.REFRESH_ID));
        if (b.has(AmiBuild.SCAN_RESULT)) made.append("  scan ").append(b.get(AmiBuild.SCAN_RESULT));
        if (b.has(AmiBuild.PRUNED)) made.append("  removed old images ").append(b.get(AmiBuild.PRUNED));
        if (made.length() > indent.length()) out.add(made.toString());
        if (b.has(AmiBuild.WARNING)) out.add("    warning: " + b.get(AmiBuild.WARNING));
        if (b.has(AmiBuild.CLEANUP)) out.add("    cleanup problems: " + b.get(AmiBuild.CLEANUP));
        for (AmiSteps.View v : AmiSteps.steps(b)) out.add(stepLine(v));
        return out;
    }

    /** {@code      Instance refresh           Running     18:02:10Z → …         50 %  instance refresh r-1 InProgress 50 %}. */
    static String stepLine(AmiSteps.View v) {
        String times = v.startedAt() == null
                ? ""
                : time(v.startedAt()) + " → " + (v.endedAt() == null ? "…" : time(v.endedAt()));
        String line = String.format(
                "      %-38s %-10s %-21s %s%s",
                v.name(), v.status(), times, v.percent() == null ? "" : v.percent() + " %  ", v.detail());
        return line.stripTrailing();
    }

    /** The time of day of an ISO instant (the run's date is on its first line). */
    private static String time(String instant) {
        int t = instant.indexOf('T');
        String hms = t < 0 ? instant : instant.substring(t + 1);
        int dot = hms.indexOf('.');
        return dot < 0 ? hms : hms.substring(0, dot) + "Z";
    }

    private static Step known(String state) {
        for (Step s : Step.values()) if (s.label().equals(state)) return s;
        return null;
    }
}
