package io.patchpilot.ami;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateInstanceNetworkInterfaceSpecification;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateVersion;
import software.amazon.awssdk.services.ec2.model.ResponseLaunchTemplateData;

/**
 * How the temporary instance of a build is launched, from the launch template version the group
 * uses: its AMI (the source), the template's instance type unless one is configured (else the
 * first mixed-instances override), the template's instance profile (else the configured one), its
 * security groups (also those of its primary network interface), and one of the group's subnets
 * (else its first Availability Zone). No user data: the temporary instance only gets patched.
 */
public final class LaunchTemplateResolution {
    private LaunchTemplateResolution() {}

    public record Launch(
            String sourceAmi,
            long sourceVersion,
            String instanceType,
            String profileArn,
            String profileName,
            List<String> securityGroupIds,
            List<String> securityGroupNames,
            String subnet,
            String availabilityZone) {}

    /** The launch, or the reason it cannot be resolved (a permanent problem of the group's template). */
    public record Resolution(Launch launch, String problem) {
        static Resolution of(Launch l) {
            return new Resolution(l, null);
        }

        static Resolution problem(String p) {
            return new Resolution(null, p);
        }
    }

    public static Resolution resolve(
            GroupSpec group,
            LaunchTemplateVersion version,
            Optional<String> configuredType,
            Optional<String> fallbackProfile) {
        ResponseLaunchTemplateData d = version.launchTemplateData();
        String where = "launch template " + group.launchTemplateId() + " version " + version.versionNumber();
        if (d == null || d.imageId() == null || d.imageId().isBlank())
            return Resolution.problem(where + " names no AMI (ImageId)");
        String type = configuredType
                .or(() -> Optional.ofNullable(d.instanceTypeAsString()).filter(t -> !t.isBlank()))
                .or(() -> group.overrideTypes().stream().findFirst())
                .orElse(null);
        if (type == null) {
            return Resolution.problem(
                    where
                            + " names no instance type (attribute-based selection?) and the group has no override types: set patchpilot.ami.instance-type");
        }
        String profileArn =
                d.iamInstanceProfile() == null ? null : d.iamInstanceProfile().arn();
        String profileName =
                d.iamInstanceProfile() == null ? null : d.iamInstanceProfile().name();
        if (profileArn == null && profileName == null) profileName = fallbackProfile.orElse(null);
        List<String> groupIds = new ArrayList<>(d.securityGroupIds());
        for (LaunchTemplateInstanceNetworkInterfaceSpecification ni : d.networkInterfaces()) {
            if (ni.deviceIndex() == null || ni.deviceIndex() == 0)
                ni.groups().stream().filter(g -> !groupIds.contains(g)).forEach(groupIds::add);
        }
        String subnet = group.subnets().isEmpty() ? null : group.subnets().get(0);
        String az = subnet != null || group.availabilityZones().isEmpty()
                ? null
                : group.availabilityZones().get(0);
        // security group names only work in a default VPC, that is without a subnet
        List<String> groupNames = subnet == null && groupIds.isEmpty() ? List.copyOf(d.securityGroups()) : List.of();
        return Resolution.of(new Launch(
                d.imageId(),
                version.versionNumber(),
                type,
                profileArn,
                profileName,
                List.copyOf(groupIds),
                groupNames,
                subnet,
                az));
    }
}
