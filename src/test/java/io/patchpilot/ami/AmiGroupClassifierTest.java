package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.tagging.TagPolicy;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateOverrides;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.MixedInstancesPolicy;
import software.amazon.awssdk.services.autoscaling.model.TagDescription;

class AmiGroupClassifierTest {
    private static final GroupClassifier CLASSIFIER =
            new GroupClassifier(new TagPolicy(List.of("Dev", "Test", "Prod"), "PatchGroup"), "PatchGroup");
    private static final LaunchTemplateSpecification LT = LaunchTemplateSpecification.builder()
            .launchTemplateId("lt-0abc")
            .launchTemplateName("web-lt")
            .version("3")
            .build();

    private static AutoScalingGroup group(Map<String, String> tags, UnaryOperator<AutoScalingGroup.Builder> how) {
        return how.apply(AutoScalingGroup.builder()
                        .autoScalingGroupName("web")
                        .availabilityZones("us-east-1a", "us-east-1b")
                        .tags(tags.entrySet().stream()
                                .map(e -> TagDescription.builder()
                                        .key(e.getKey())
                                        .value(e.getValue())
                                        .build())
                                .toList()))
                .build();
    }

    private static MixedInstancesPolicy mixed(LaunchTemplateOverrides... overrides) {
        return MixedInstancesPolicy.builder()
                .launchTemplate(t -> t.launchTemplateSpecification(LT).overrides(overrides))
                .build();
    }

    static Stream<Arguments> reports() {
        return Stream.of(
                Arguments.of(
                        "cluster autoscaler",
                        group(Map.of("k8s.io/cluster-autoscaler/enabled", "TRUE"), b -> b.launchTemplate(LT)),
                        "Skipped",
                        "exempt: Kubernetes cluster-autoscaler group (tag k8s.io/cluster-autoscaler/enabled)"),
                Arguments.of(
                        "ECS capacity provider",
                        group(Map.of("AmazonECSManaged", ""), b -> b.launchTemplate(LT)),
                        "Skipped",
                        "exempt: ECS capacity provider group (tag AmazonECSManaged)"),
                Arguments.of(
                        "opted out",
                        group(Map.of("install_patch", "No"), b -> b.launchTemplate(LT)),
                        "Skipped",
                        "exempt: opted out (install_patch=No)"),
                Arguments.of(
                        "launch configuration",
                        group(Map.of(), b -> b.launchConfigurationName("old-lc")),
                        "NeedsMigration",
                        "uses launch configuration old-lc: migrate it to a launch template (AWS no longer lets new accounts "
                                + "create launch configurations); patchpilot builds AMIs for launch-template groups only"),
                Arguments.of(
                        "override with its own template",
                        group(
                                Map.of(),
                                b -> b.mixedInstancesPolicy(mixed(LaunchTemplateOverrides.builder()
                                        .instanceType("m6g.large")
                                        .launchTemplateSpecification(s -> s.launchTemplateId("lt-arm"))
                                        .build()))),
                        "Unsupported",
                        "a mixed-instances override (m6g.large) names its own launch template: only the policy's launch template "
                                + "gets the patched AMI, so patchpilot leaves the group alone"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reports")
    void groups_that_are_not_built_are_reported_with_the_reason(
            String name, AutoScalingGroup g, String state, String reason) {
        assertEquals(new GroupClassifier.Report(state, reason), CLASSIFIER.classify(g));
    }

    @Test
    void a_launch_template_group_is_built_with_its_version_subnets_and_patch_tags() {
        GroupClassifier.Decision d = CLASSIFIER.classify(group(
                Map.of(
                        "environment",
                        "Dev",
                        "maintenance_window",
                        "Default_maintenance_window",
                        "PatchGroup",
                        "Default",
                        "owner",
                        "alice"),
                b -> b.launchTemplate(LT).vpcZoneIdentifier("subnet-1, subnet-2")));
        assertEquals(
                new GroupClassifier.Build(new GroupSpec(
                        "web",
                        "lt-0abc",
                        "3",
                        false,
                        List.of(),
                        List.of("subnet-1", "subnet-2"),
                        List.of("us-east-1a", "us-east-1b"),
                        Map.of(
                                "environment",
                                "Dev",
                                "maintenance_window",
                                "Default_maintenance_window",
                                "PatchGroup",
                                "Default"))),
                d);
    }

    @Test
    void a_mixed_instances_group_is_built_from_its_policys_template_with_the_override_types() {
        LaunchTemplateSpecification latest = LT.toBuilder().version("$Latest").build();
        GroupClassifier.Decision d = CLASSIFIER.classify(group(
                Map.of(),
                b -> b.mixedInstancesPolicy(MixedInstancesPolicy.builder()
                        .launchTemplate(t -> t.launchTemplateSpecification(latest)
                                .overrides(
                                        LaunchTemplateOverrides.builder()
                                                .instanceType("c6i.large")
                                                .build(),
                                        LaunchTemplateOverrides.builder()
                                                .instanceType("c5.large")
                                                .build()))
                        .build())));
        GroupSpec spec = ((GroupClassifier.Build) d).spec();
        assertEquals(true, spec.mixed());
        assertEquals("$Latest", spec.version());
        assertEquals(List.of("c6i.large", "c5.large"), spec.overrideTypes());
        assertEquals(List.of(), spec.subnets());
    }

    @Test
    void a_group_naming_no_version_uses_the_templates_default() {
        GroupSpec spec = ((GroupClassifier.Build) CLASSIFIER.classify(group(
                        Map.of(),
                        b -> b.launchTemplate(LT.toBuilder().version(null).build()))))
                .spec();
        assertEquals("$Default", spec.versionOrDefault());
    }
}
