package io.patchpilot.patching;

import java.util.ArrayList;
import java.util.List;

/** A run's figures as plain text lines: what {@code patchpilot runs show}, the mail's text part and Slack print. */
public final class RunText {
    private RunText() {}

    /**
     * <pre>
     * Window Default_maintenance_window (organization), occurrence 2026-12-04T05:00:00Z
     * Account-regions: 8 of 8 account-regions done (Done 7, Failed 1)
     * Instances: 5 patched, 1 failed, 4 skipped (Failed 1, Skipped 4, Success 5)
     * AutoScaling groups: Refreshed 1, Skipped 1
     * Needs attention:
     *   222222222222/us-east-1 i-0abc Failed - …
     * </pre>
     */
    public static List<String> lines(RunFigures f) {
        List<String> out = new ArrayList<>();
        out.add("Window " + f.window() + ", occurrence " + f.occurrence());
        out.add("Account-regions: " + f.accountRegionsLine());
        out.add("Instances: " + f.instancesLine());
        out.add("AutoScaling groups: " + f.groupsLine());
        if (!f.problems().isEmpty()) {
            out.add("Needs attention:");
            for (RunFigures.Problem p : f.problems())
                out.add("  " + p.account() + "/" + p.region() + " " + p.resource() + " " + p.status()
                        + (p.reason().isEmpty() || p.reason().equals(p.status()) ? "" : " - " + p.reason())
                        + (p.output() == null || p.output().isEmpty() ? "" : "\n    output: " + p.output()));
            if (f.problemsTotal() > f.problems().size())
                out.add("  +" + (f.problemsTotal() - f.problems().size()) + " more");
        }
        return out;
    }
}
