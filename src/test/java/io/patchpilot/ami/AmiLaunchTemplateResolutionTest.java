package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.patchpilot.ami.LaunchTemplateResolution.Launch;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateInstanceNetworkInterfaceSpecification;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateVersion;
import software.amazon.awssdk.services.ec2.model.ResponseLaunchTemplateData;

class AmiLaunchTemplateResolutionTest {
    private static final GroupSpec PLAIN = new GroupSpec(
            "web", "lt-1", "3", false, List.of(), List.of("subnet-a", "subnet-b"), List.of("us-east-1a"), Map.of());
    private static final GroupSpec MIXED_NO_SUBNETS = new GroupSpec(
            "web",
            "lt-1",
            "$Latest",
            true,
            List.of("c6i.large", "c5.large"),
            List.of(),
            List.of("eu-west-1b", "eu-west-1a"),
            Map.of());

    private static LaunchTemplateVersion version(UnaryOperator<ResponseLaunchTemplateData.Builder> data) {
        return LaunchTemplateVersion.builder()
                .versionNumber(3L)
                .launchTemplateData(
                        data.apply(ResponseLaunchTemplateData.builder().imageId("ami-src"))
                                .build())
                .build();
    }

    private static LaunchTemplateInstanceNetworkInterfaceSpecification nic(int index, String... groups) {
        return LaunchTemplateInstanceNetworkInterfaceSpecification.builder()
                .deviceIndex(index)
                .groups(groups)
                .build();
    }

    static Stream<Arguments> launches() {
        return Stream.of(
                Arguments.of(
                        "the template's type, profile and groups in the group's first subnet",
                        PLAIN,
                        version(d -> d.instanceType("t3.micro")
                                .iamInstanceProfile(p -> p.arn("arn:aws:iam::1:instance-profile/web"))
                                .securityGroupIds("sg-1")),
                        Optional.empty(),
                        new Launch(
                                "ami-src",
                                3,
                                "t3.micro",
                                "arn:aws:iam::1:instance-profile/web",
                                null,
                                List.of("sg-1"),
                                List.of(),
                                "subnet-a",
                                null)),
                Arguments.of(
                        "a configured type wins",
                        PLAIN,
                        version(d -> d.instanceType("t3.micro")),
                        Optional.of("m5.large"),
                        new Launch(
                                "ami-src",
                                3,
                                "m5.large",
                                null,
                                "PatchpilotManagedInstance",
                                List.of(),
                                List.of(),
                                "subnet-a",
                                null)),
                Arguments.of(
                        "no type in the template: the first override; no subnet: the first zone",
                        MIXED_NO_SUBNETS,
                        version(d -> d.iamInstanceProfile(p -> p.name("nodes"))),
                        Optional.empty(),
                        new Launch("ami-src", 3, "c6i.large", null, "nodes", List.of(), List.of(), null, "eu-west-1b")),
                Arguments.of(
                        "the primary interface's groups count, others not",
                        PLAIN,
                        version(d -> d.instanceType("t3.micro")
                                .securityGroupIds("sg-1")
                                .networkInterfaces(nic(0, "sg-1", "sg-2"), nic(1, "sg-9"))),
                        Optional.empty(),
                        new Launch(
                                "ami-src",
                                3,
                                "t3.micro",
                                null,
                                "PatchpilotManagedInstance",
                                List.of("sg-1", "sg-2"),
                                List.of(),
                                "subnet-a",
                                null)),
                Arguments.of(
                        "group names only without a subnet (default VPC)",
                        MIXED_NO_SUBNETS,
                        version(d -> d.instanceType("t3.micro").securityGroups("web")),
                        Optional.empty(),
                        new Launch(
                                "ami-src",
                                3,
                                "t3.micro",
                                null,
                                "PatchpilotManagedInstance",
                                List.of(),
                                List.of("web"),
                                null,
                                "eu-west-1b")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("launches")
    void the_temporary_instance_launches_like_the_group(
            String name, GroupSpec group, LaunchTemplateVersion v, Optional<String> type, Launch expected) {
        LaunchTemplateResolution.Resolution r =
                LaunchTemplateResolution.resolve(group, v, type, Optional.of("PatchpilotManagedInstance"));
        assertNull(r.problem());
        assertEquals(expected, r.launch());
    }

    static Stream<Arguments> problems() {
        return Stream.of(
                Arguments.of(
                        PLAIN,
                        LaunchTemplateVersion.builder()
                                .versionNumber(3L)
                                .launchTemplateData(d -> d.instanceType("t3.micro"))
                                .build(),
                        "launch template lt-1 version 3 names no AMI (ImageId)"),
                Arguments.of(
                        PLAIN,
                        version(d -> d),
                        "launch template lt-1 version 3 names no instance type (attribute-based selection?) and the group has no override types: set patchpilot.ami.instance-type"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("problems")
    void a_template_that_cannot_launch_the_build_is_a_problem_named_in_the_reason(
            GroupSpec group, LaunchTemplateVersion v, String problem) {
        assertEquals(
                problem,
                LaunchTemplateResolution.resolve(group, v, Optional.empty(), Optional.empty())
                        .problem());
    }
}
