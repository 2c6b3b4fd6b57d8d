package io.patchpilot.ami;

import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code patchpilot.ami.*}: how many patched images a group keeps, how the temporary instance is
 * launched when its launch template does not say, how often waiting steps poll and how long each
 * wait may last before the build is given up and cleaned up.
 */
public record AmiSettings(
        int retain,
        Optional<String> instanceType,
        Optional<String> instanceProfile,
        int pollSeconds,
        Duration managedWait,
        Duration patchWait,
        Duration imageWait,
        Duration refreshWait,
        Duration scanWait,
        int maxReceiveCount,
        String logsBucket,
        String patchGroupKey) {

    public static AmiSettings from(Settings s, PatchpilotConfig config) {
        return new AmiSettings(
                s.intOr("patchpilot.ami.retain", 3, 1, 100),
                s.optional("patchpilot.ami.instance-type"),
                s.optional("patchpilot.ami.instance-profile"),
                s.intOr("patchpilot.ami.poll-seconds", 30, 1, 900),
                Duration.ofMinutes(s.intOr("patchpilot.ami.managed-wait-minutes", 15, 1, 1440)),
                Duration.ofMinutes(s.intOr("patchpilot.ami.patch-wait-minutes", 120, 1, 1440)),
                Duration.ofMinutes(s.intOr("patchpilot.ami.image-wait-minutes", 60, 1, 1440)),
                Duration.ofMinutes(s.intOr("patchpilot.ami.refresh-wait-minutes", 360, 1, 2880)),
                Duration.ofMinutes(s.intOr("patchpilot.ami.scan-wait-minutes", 60, 1, 1440)),
                config.queues().maxReceiveCount(),
                config.buckets().logs(),
                s.optional("patchpilot.tagging.patch-group-key").orElse("PatchGroup"));
    }

    /** How long a step may wait for AWS before the build is given up. */
    public Duration waitLimit(Step step) {
        return switch (step) {
            case WAIT_MANAGED, WAIT_STOPPED -> managedWait;
            case WAIT_INSTALL -> patchWait;
            case WAIT_IMAGE -> imageWait;
            case REFRESH, WAIT_REFRESH, WAIT_ROLLBACK -> refreshWait;
            case WAIT_SCAN -> scanWait;
            default -> Duration.ofMinutes(15);
        };
    }
}
