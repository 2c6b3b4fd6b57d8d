package io.patchpilot.ledger;

/**
 * The ledger's keys for runs: a run's items share the partition {@link #pk(String)} (its head item
 * has sort key {@link #RUN}; account-region, AMI build and report items sit beside it), and the
 * {@link #INDEX} partition lists runs by start time. Patch, emergency and report runs, AMI builds,
 * the dashboard and the CLI all read and write runs through these keys.
 */
public final class RunKeys {
    /** Sort key of a run's head item. */
    public static final String RUN = "RUN";
    /** Partition listing the runs, sort key {@code <created>#<run id>}. */
    public static final String INDEX = "RUNS";

    private RunKeys() {}

    /** The partition of one run's items. */
    public static String pk(String runId) {
        return "RUN#" + runId;
    }
}
