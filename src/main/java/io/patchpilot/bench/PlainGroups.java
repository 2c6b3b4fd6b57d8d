package io.patchpilot.bench;

import io.patchpilot.tagging.TagPolicy;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.Filter;

/** The plain loop's AutoScaling lookup: the groups tagged for a window in one account-region, as patchpilot selects them. */
final class PlainGroups {
    private PlainGroups() {}

    /** How many groups are tagged for the window (every page read). */
    static long tagged(AutoScalingClient autoScaling, String windowName) {
        return autoScaling
                .describeAutoScalingGroupsPaginator(r -> r.filters(Filter.builder()
                        .name("tag:" + TagPolicy.MAINTENANCE_WINDOW)
                        .values(windowName)
                        .build()))
                .autoScalingGroups()
                .stream()
                .count();
    }
}
