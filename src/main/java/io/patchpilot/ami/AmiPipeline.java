package io.patchpilot.ami;

import java.time.Duration;

/**
 * The AMI-refresh pipeline of one AutoScaling group as a state machine: which step follows a
 * step that succeeded, which cleanup step follows one that failed, and how long a waiting step
 * may wait. Pure: {@link AmiRefreshStep} performs the steps and records the transitions.
 *
 * <pre>
 * Resolve → Launch → WaitManaged → Install → WaitInstall → Stop → WaitStopped → Image → WaitImage
 *   → Terminate → Version → Refresh → WaitRefresh → Scan → WaitScan → Retention → Prune → Refreshed
 *                         ↘ Publish (refresh not requested) ───────→ Retention → Prune → Published
 * failure: [RollbackRefresh → WaitRollback →] RestoreGroup → DeleteVersion → DeleteImage → TerminateBuild → Failed,
 *          entered at the first cleanup step that can have something to undo
 * </pre>
 */
public final class AmiPipeline {
    private AmiPipeline() {}

    public enum Kind {
        /** One AWS action, then the next step at once. */
        ACTION,
        /** Polls AWS until something is ready (bounded by a wait limit). */
        WAIT,
        /** Undoes what a failed build created; its own failures are recorded and passed over. */
        CLEANUP,
        /** The group's outcome; the run counts it done. */
        END
    }

    public enum Step {
        RESOLVE("Resolve", Kind.ACTION, "resolving the source AMI from the launch template"),
        LAUNCH("Launch", Kind.ACTION, "launching the temporary instance"),
        WAIT_MANAGED("WaitManaged", Kind.WAIT, "waiting for the temporary instance to be managed by SSM"),
        INSTALL("Install", Kind.ACTION, "sending AWS-RunPatchBaseline Install"),
        WAIT_INSTALL("WaitInstall", Kind.WAIT, "patching the temporary instance"),
        STOP("Stop", Kind.ACTION, "stopping the temporary instance"),
        WAIT_STOPPED("WaitStopped", Kind.WAIT, "waiting for the temporary instance to stop"),
        IMAGE("Image", Kind.ACTION, "creating the patched image"),
        WAIT_IMAGE("WaitImage", Kind.WAIT, "waiting for the image to be available"),
        TERMINATE("Terminate", Kind.ACTION, "terminating the temporary instance"),
        VERSION("Version", Kind.ACTION, "creating the launch template version"),
        REFRESH("Refresh", Kind.ACTION, "starting the instance refresh"),
        PUBLISH("Publish", Kind.ACTION, "pointing the group at the new version"),
        WAIT_REFRESH("WaitRefresh", Kind.WAIT, "following the instance refresh"),
        SCAN("Scan", Kind.ACTION, "sending AWS-RunPatchBaseline Scan to the new instances"),
        WAIT_SCAN("WaitScan", Kind.WAIT, "waiting for the scan"),
        RETENTION("Retention", Kind.ACTION, "choosing old patched images to remove"),
        PRUNE("Prune", Kind.ACTION, "deregistering old patched images"),
        REFRESHED("Refreshed", Kind.END, "new image, new version, instances refreshed"),
        PUBLISHED("Published", Kind.END, "new image and version; instances not refreshed (not requested)"),
        ROLLBACK_REFRESH("RollbackRefresh", Kind.CLEANUP, "rolling the instance refresh back"),
        WAIT_ROLLBACK("WaitRollback", Kind.CLEANUP, "waiting for the rollback"),
        RESTORE_GROUP("RestoreGroup", Kind.CLEANUP, "putting the group back on its previous version"),
        DELETE_VERSION("DeleteVersion", Kind.CLEANUP, "deleting the new launch template version"),
        DELETE_IMAGE("DeleteImage", Kind.CLEANUP, "deregistering the new image and its snapshots"),
        TERMINATE_BUILD("TerminateBuild", Kind.CLEANUP, "terminating the temporary instance"),
        FAILED("Failed", Kind.END, "failed; everything it created was removed");

        private final String label;
        private final Kind kind;
        private final String description;

        Step(String label, Kind kind, String description) {
            this.label = label;
            this.kind = kind;
            this.description = description;
        }

        /** The name recorded in the ledger and shown by {@code patchpilot runs show}. */
        public String label() {
            return label;
        }

        public Kind kind() {
            return kind;
        }

        public String description() {
            return description;
        }

        public boolean ended() {
            return kind == Kind.END;
        }

        public static Step of(String label) {
            for (Step s : values()) if (s.label.equals(label)) return s;
            throw new IllegalArgumentException("no AMI pipeline step " + label);
        }
    }

    /** The step after {@code s} succeeded. */
    public static Step next(Step s, boolean refresh) {
        return switch (s) {
            case RESOLVE -> Step.LAUNCH;
            case LAUNCH -> Step.WAIT_MANAGED;
            case WAIT_MANAGED -> Step.INSTALL;
            case INSTALL -> Step.WAIT_INSTALL;
            case WAIT_INSTALL -> Step.STOP;
            case STOP -> Step.WAIT_STOPPED;
            case WAIT_STOPPED -> Step.IMAGE;
            case IMAGE -> Step.WAIT_IMAGE;
            case WAIT_IMAGE -> Step.TERMINATE;
            case TERMINATE -> Step.VERSION;
            case VERSION -> refresh ? Step.REFRESH : Step.PUBLISH;
            case REFRESH -> Step.WAIT_REFRESH;
            case PUBLISH -> Step.RETENTION;
            case WAIT_REFRESH -> Step.SCAN;
            case SCAN -> Step.WAIT_SCAN;
            case WAIT_SCAN -> Step.RETENTION;
            case RETENTION -> Step.PRUNE;
            case PRUNE -> refresh ? Step.REFRESHED : Step.PUBLISHED;
            case ROLLBACK_REFRESH -> Step.WAIT_ROLLBACK;
            case WAIT_ROLLBACK -> Step.RESTORE_GROUP;
            case RESTORE_GROUP -> Step.DELETE_VERSION;
            case DELETE_VERSION -> Step.DELETE_IMAGE;
            case DELETE_IMAGE -> Step.TERMINATE_BUILD;
            case TERMINATE_BUILD -> Step.FAILED;
            case REFRESHED, PUBLISHED, FAILED -> throw new IllegalStateException(s.label() + " is an end state");
        };
    }

    /**
     * Where a failure of {@code s} leads: the first cleanup step that can have something of this
     * build to undo. Once the new version is live (the refresh succeeded, or it was published),
     * nothing is undone: scan and retention problems are warnings and the pipeline goes on.
     */
    public static Step afterFailure(Step s, boolean refresh) {
        return switch (s) {
            case RESOLVE -> Step.FAILED;
            case LAUNCH, WAIT_MANAGED, INSTALL, WAIT_INSTALL, STOP, WAIT_STOPPED -> Step.TERMINATE_BUILD;
            case IMAGE, WAIT_IMAGE, TERMINATE -> Step.DELETE_IMAGE;
            case VERSION -> Step.DELETE_VERSION;
            case REFRESH, PUBLISH, WAIT_REFRESH -> Step.RESTORE_GROUP;
            case SCAN, WAIT_SCAN -> Step.RETENTION;
            case RETENTION, PRUNE -> next(Step.PRUNE, refresh);
            case ROLLBACK_REFRESH, WAIT_ROLLBACK, RESTORE_GROUP, DELETE_VERSION, DELETE_IMAGE, TERMINATE_BUILD ->
                next(s, false);
            case REFRESHED, PUBLISHED, FAILED -> throw new IllegalStateException(s.label() + " is an end state");
        };
    }

    /** Where a wait that ran out of time leads: a refresh still running is rolled back first. */
    public static Step afterTimeout(Step s, boolean refresh) {
        return s == Step.WAIT_REFRESH ? Step.ROLLBACK_REFRESH : afterFailure(s, refresh);
    }

    /** True when a failure of {@code s} is only a warning: the group already runs the new version. */
    public static boolean afterSuccess(Step s) {
        return switch (s) {
            case SCAN, WAIT_SCAN, RETENTION, PRUNE -> true;
            default -> false;
        };
    }

    /**
     * MaxHealthyPercentage of the instance refresh: 100 (replace within the group's size, as the seed
     * did), but above the minimum when the window asks to keep 100 % healthy — AWS can then only
     * launch before it terminates.
     */
    public static int maxHealthyPercentage(int minHealthyPercentage) {
        return minHealthyPercentage >= 100 ? 110 : 100;
    }

    /**
     * The delay before polling a waiting step again: the configured poll interval at first, then a
     * tenth of the time waited so far (a refresh of an hour is polled about every 6 minutes at the
     * end), at most 5 minutes.
     */
    public static int pollDelaySeconds(int pollSeconds, Duration waited) {
        long tenth = waited.toSeconds() / 10;
        return (int) Math.max(pollSeconds, Math.min(300, tenth));
    }
}
