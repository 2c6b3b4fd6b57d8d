package io.patchpilot.ami;

import io.patchpilot.tagging.ResourceKind;
import io.patchpilot.tagging.TagDecision;
import io.patchpilot.tagging.TagPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateOverrides;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.TagDescription;

/**
 * Decides what a run does with one AutoScaling group it selected: build an AMI for it, skip it as
 * exempt (docs/contract.md#tags: cluster-autoscaler and ECS capacity-provider groups, opted out), or report
 * it. A group on a launch configuration is reported as needing migration: converting it would
 * change a resource its owner's infrastructure code manages (and new accounts can no longer create
 * launch configurations at all).
 */
public final class GroupClassifier {
    private final TagPolicy policy;
    private final Set<String> patchTagKeys;

    public GroupClassifier(TagPolicy policy, String patchGroupKey) {
        this.policy = policy;
        this.patchTagKeys = Set.of(TagPolicy.ENVIRONMENT, TagPolicy.MAINTENANCE_WINDOW, patchGroupKey);
    }

    public sealed interface Decision {}

    public record Build(GroupSpec spec) implements Decision {}

    /** Not built, and the state it is recorded with: Skipped (exempt), NeedsMigration or Unsupported. */
    public record Report(String state, String reason) implements Decision {}

    public Decision classify(AutoScalingGroup g) {
        Map<String, String> tags = new HashMap<>();
        for (TagDescription t : g.tags()) tags.put(t.key(), t.value() == null ? "" : t.value());
        if (policy.decide(ResourceKind.AUTO_SCALING_GROUP, tags, Set.of()) instanceof TagDecision.Exempt e) {
            return new Report("Skipped", "exempt: " + e.reason());
        }
        LaunchTemplateSpecification lt;
        List<String> overrideTypes = new ArrayList<>();
        boolean mixed =
                g.mixedInstancesPolicy() != null && g.mixedInstancesPolicy().launchTemplate() != null;
        if (mixed) {
            lt = g.mixedInstancesPolicy().launchTemplate().launchTemplateSpecification();
            for (LaunchTemplateOverrides o :
                    g.mixedInstancesPolicy().launchTemplate().overrides()) {
                if (o.launchTemplateSpecification() != null) {
                    return new Report(
                            "Unsupported",
                            "a mixed-instances override (" + o.instanceType()
                                    + ") names its own launch template: only the policy's launch template gets the patched AMI, so patchpilot leaves the group alone");
                }
                if (o.instanceType() != null) overrideTypes.add(o.instanceType());
            }
        } else {
            lt = g.launchTemplate();
        }
        if (lt == null) {
            if (g.launchConfigurationName() != null) {
                return new Report(
                        "NeedsMigration",
                        "uses launch configuration " + g.launchConfigurationName()
                                + ": migrate it to a launch template (AWS no longer lets new accounts create launch configurations); patchpilot builds AMIs for launch-template groups only");
            }
            return new Report("Unsupported", "has neither a launch template nor a mixed-instances policy");
        }
        if (lt.launchTemplateId() == null) {
            return new Report(
                    "Unsupported", "its launch template is named (" + lt.launchTemplateName() + ") but AWS gave no id");
        }
        Map<String, String> patchTags = new LinkedHashMap<>();
        tags.forEach((k, v) -> {
            if (patchTagKeys.contains(k)) patchTags.put(k, v);
        });
        List<String> subnets =
                g.vpcZoneIdentifier() == null || g.vpcZoneIdentifier().isBlank()
                        ? List.of()
                        : Arrays.stream(g.vpcZoneIdentifier().split(","))
                                .map(String::trim)
                                .filter(s -> !s.isEmpty())
                                .toList();
        return new Build(new GroupSpec(
                g.autoScalingGroupName(),
                lt.launchTemplateId(),
                lt.version(),
                mixed,
                overrideTypes,
                subnets,
                g.availabilityZones(),
                patchTags));
    }
}
