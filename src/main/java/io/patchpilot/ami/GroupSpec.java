package io.patchpilot.ami;

import java.util.List;
import java.util.Map;

/**
 * What a run remembers of an AutoScaling group it builds an AMI for: its launch template and the
 * version it uses (as the group names it: a number, {@code $Latest}, {@code $Default}, or null for
 * the default), whether that comes through a mixed-instances policy (and its override types), where
 * its instances run, and its patch tags (copied to the temporary instance).
 */
public record GroupSpec(
        String name,
        String launchTemplateId,
        String version,
        boolean mixed,
        List<String> overrideTypes,
        List<String> subnets,
        List<String> availabilityZones,
        Map<String, String> patchTags) {
    public GroupSpec {
        overrideTypes = List.copyOf(overrideTypes);
        subnets = List.copyOf(subnets);
        availabilityZones = List.copyOf(availabilityZones);
        patchTags = Map.copyOf(patchTags);
    }

    /** The version as AWS reads a missing one. */
    public String versionOrDefault() {
        return version == null || version.isBlank() ? "$Default" : version;
    }
}
