package io.patchpilot.ami;

import static io.patchpilot.ami.AmiBuild.*;
import static io.patchpilot.ami.Outcome.done;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.errors.AwsErrors;
import io.patchpilot.errors.PermanentFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.ActiveInstanceRefreshNotFoundException;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.DesiredConfiguration;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefresh;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefreshInProgressException;
import software.amazon.awssdk.services.autoscaling.model.IrreversibleInstanceRefreshException;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.MixedInstancesPolicy;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DeleteLaunchTemplateVersionsResponse;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImageState;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateVersion;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.Command;
import software.amazon.awssdk.services.ssm.model.CommandFilter;
import software.amazon.awssdk.services.ssm.model.CommandFilterKey;
import software.amazon.awssdk.services.ssm.model.CommandInvocation;
import software.amazon.awssdk.services.ssm.model.InstanceInformationStringFilter;
import software.amazon.awssdk.services.ssm.model.PingStatus;
import software.amazon.awssdk.services.ssm.model.Target;

/**
 * The AWS side of each pipeline step, in the group's member account (session
 * {@code patchpilot-ami}). Every create is idempotent: RunInstances and CreateLaunchTemplateVersion
 * carry the build's client token, CreateImage a deterministic name (a duplicate is looked up), and
 * commands are found again by their comment before one is sent. A step reports what it created as
 * facts; a resource that is already gone counts as removed.
 */
final class AmiActions {
    static final String DOCUMENT = "AWS-RunPatchBaseline";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> REFRESH_ACTIVE =
            Set.of("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking");
    private static final Set<String> COMMAND_ACTIVE = Set.of("Pending", "InProgress", "Delayed", "Cancelling");
    private static final Set<String> GONE = Set.of(
            "InvalidAMIID.NotFound",
            "InvalidAMIID.Unavailable",
            "InvalidSnapshot.NotFound",
            "InvalidInstanceID.NotFound",
            "InvalidLaunchTemplateId.NotFound",
            "InvalidLaunchTemplateId.VersionNotFound");
    private static final String JOB = "ami";

    private final AwsClients aws;
    private final AmiSettings settings;

    AmiActions(AwsClients aws, AmiSettings settings) {
        this.aws = aws;
        this.settings = settings;
    }

    Outcome perform(Step step, AmiBuild b) {
        return switch (step) {
            case RESOLVE -> resolve(b);
            case LAUNCH -> launch(b);
            case WAIT_MANAGED -> waitManaged(b);
            case INSTALL -> sendCommand(b, INSTALL_COMMAND, "install");
            case WAIT_INSTALL -> waitInstall(b);
            case STOP -> stop(b);
            case WAIT_STOPPED -> waitStopped(b);
            case IMAGE -> image(b);
            case WAIT_IMAGE -> waitImage(b);
            case TERMINATE -> terminate(b);
            case VERSION -> version(b);
            case REFRESH -> refresh(b);
            case PUBLISH -> publish(b);
            case WAIT_REFRESH -> waitRefresh(b);
            case SCAN -> sendCommand(b, SCAN_COMMAND, "scan");
            case WAIT_SCAN -> waitScan(b);
            case RETENTION -> retention(b);
            case PRUNE -> prune(b);
            case ROLLBACK_REFRESH -> rollbackRefresh(b);
            case WAIT_ROLLBACK -> waitRollback(b);
            case RESTORE_GROUP -> restoreGroup(b);
            case DELETE_VERSION -> deleteVersion(b);
            case DELETE_IMAGE -> deleteImage(b);
            case TERMINATE_BUILD -> terminateBuild(b);
            case REFRESHED, PUBLISHED, FAILED -> throw new IllegalStateException(step.label() + " has no action");
        };
    }

    private <C extends SdkClient> C client(Class<C> type, AmiBuild b) {
        return aws.member(type, b.target(), JOB);
    }

    // ------------------------------------------------------------------ build

    @AwsActions("ec2:DescribeLaunchTemplateVersions")
    private Outcome resolve(AmiBuild b) {
        LaunchTemplateVersion v = client(Ec2Client.class, b)
                .describeLaunchTemplateVersions(r -> r.launchTemplateId(b.get(LT_ID))
                        .versions(b.groupVersion())
                        .resolveAlias(true))
                .launchTemplateVersions()
                .get(0);
        GroupSpec spec = new GroupSpec(
                b.group(),
                b.get(LT_ID),
                b.groupVersion(),
                b.mixed(),
                b.list(OVERRIDE_TYPES),
                b.list(SUBNETS),
                b.list(AZS),
                Map.of());
        LaunchTemplateResolution.Resolution r =
                LaunchTemplateResolution.resolve(spec, v, settings.instanceType(), settings.instanceProfile());
        if (r.problem() != null) return new Outcome.Failed(r.problem());
        LaunchTemplateResolution.Launch l = r.launch();
        return done(
                SOURCE_AMI,
                l.sourceAmi(),
                SOURCE_VERSION,
                Long.toString(l.sourceVersion()),
                INSTANCE_TYPE,
                l.instanceType(),
                PROFILE_ARN,
                l.profileArn(),
                PROFILE_NAME,
                l.profileName(),
                SECURITY_GROUPS,
                String.join(",", l.securityGroupIds()),
                SECURITY_GROUP_NAMES,
                String.join(",", l.securityGroupNames()),
                SUBNET,
                l.subnet(),
                AZ,
                l.availabilityZone());
    }

    /** PassRole: the instance profile's role goes to the temporary instance; CreateTags: tags on launch. */
    @AwsActions({"ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"})
    private Outcome launch(AmiBuild b) {
        List<Tag> tags = new ArrayList<>();
        tags.add(tag("Name", "patchpilot AMI build " + b.group()));
        tags.add(tag(AmiNames.BUILD_TAG, b.get(TOKEN)));
        tags.add(tag(AmiNames.GROUP_TAG, b.group()));
        tags.add(tag(AmiNames.RUN_TAG, b.runId()));
        patchTags(b).forEach((k, v) -> tags.add(tag(k, v)));
        Instance i = client(Ec2Client.class, b)
                .runInstances(r -> {
                    r.imageId(b.get(SOURCE_AMI))
                            .instanceType(b.get(INSTANCE_TYPE))
                            .minCount(1)
                            .maxCount(1)
                            .clientToken(b.get(TOKEN))
                            .tagSpecifications(
                                    TagSpecification.builder()
                                            .resourceType(ResourceType.INSTANCE)
                                            .tags(tags)
                                            .build(),
                                    TagSpecification.builder()
                                            .resourceType(ResourceType.VOLUME)
                                            .tags(tags)
                                            .build());
                    if (b.has(PROFILE_ARN)) r.iamInstanceProfile(p -> p.arn(b.get(PROFILE_ARN)));
                    else if (b.has(PROFILE_NAME)) r.iamInstanceProfile(p -> p.name(b.get(PROFILE_NAME)));
                    if (b.has(SUBNET)) r.subnetId(b.get(SUBNET));
                    else if (b.has(AZ)) r.placement(p -> p.availabilityZone(b.get(AZ)));
                    if (b.has(SECURITY_GROUPS)) r.securityGroupIds(b.list(SECURITY_GROUPS));
                    else if (b.has(SECURITY_GROUP_NAMES)) r.securityGroups(b.list(SECURITY_GROUP_NAMES));
                })
                .instances()
                .get(0);
        return done(INSTANCE, i.instanceId());
    }

    @AwsActions("ssm:DescribeInstanceInformation")
    private Outcome waitManaged(AmiBuild b) {
        boolean online = client(SsmClient.class, b)
                .describeInstanceInformation(r -> r.filters(InstanceInformationStringFilter.builder()
                        .key("InstanceIds")
                        .values(b.get(INSTANCE))
                        .build()))
                .instanceInformationList()
                .stream()
                .anyMatch(i -> i.pingStatus() == PingStatus.ONLINE);
        return online ? done() : new Outcome.Wait(b.get(INSTANCE) + " is not reporting to SSM yet");
    }

    /**
     * AWS-RunPatchBaseline on the temporary instance (Install, RebootIfNeeded, the run's
     * InstallOverrideList) or on the group's instances after the refresh (Scan, by the group's
     * {@code aws:autoscaling:groupName} tag). A command already sent with this build's comment is
     * taken instead of sending another.
     */
    @AwsActions({"ssm:ListCommands", "ssm:SendCommand"})
    private Outcome sendCommand(AmiBuild b, String fact, String what) {
        SsmClient ssm = client(SsmClient.class, b);
        String comment = AmiNames.comment(b.get(TOKEN), what);
        Instant since = Instant.parse(b.get(CREATED)).minus(Duration.ofMinutes(5));
        Optional<String> sent = ssm
                .listCommandsPaginator(r -> r.filters(
                        CommandFilter.builder()
                                .key(CommandFilterKey.DOCUMENT_NAME)
                                .value(DOCUMENT)
                                .build(),
                        CommandFilter.builder()
                                .key(CommandFilterKey.INVOKED_AFTER)
                                .value(since.toString())
                                .build()))
                .commands()
                .stream()
                .filter(c -> comment.equals(c.comment()))
                .map(Command::commandId)
                .findFirst();
        if (sent.isPresent()) return done(fact, sent.get());
        boolean install = what.equals("install");
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        parameters.put("Operation", List.of(install ? "Install" : "Scan"));
        parameters.put("RebootOption", List.of(install ? "RebootIfNeeded" : "NoReboot"));
        if (install && b.has(OVERRIDE_LIST)) parameters.put("InstallOverrideList", List.of(b.get(OVERRIDE_LIST)));
        String commandId = ssm.sendCommand(r -> {
                    r.documentName(DOCUMENT)
                            .comment(comment)
                            .parameters(parameters)
                            .outputS3BucketName(settings.logsBucket())
                            .outputS3KeyPrefix(
                                    "patching/accountid=" + b.target().account() + "/region="
                                            + b.target().region() + "/run=" + b.runId() + "/asg=" + b.group());
                    if (install) r.instanceIds(b.get(INSTANCE));
                    else
                        r.targets(Target.builder()
                                        .key("tag:aws:autoscaling:groupName")
                                        .values(b.group())
                                        .build())
                                .maxConcurrency("50")
                                .maxErrors("100%");
                })
                .command()
                .commandId();
        return done(fact, commandId);
    }

    @AwsActions("ssm:ListCommandInvocations")
    private Outcome waitInstall(AmiBuild b) {
        List<CommandInvocation> invocations = client(SsmClient.class, b)
                .listCommandInvocations(r -> r.commandId(b.get(INSTALL_COMMAND)).instanceId(b.get(INSTANCE)))
                .commandInvocations();
        if (invocations.isEmpty())
            return new Outcome.Wait("patch command " + b.get(INSTALL_COMMAND) + " not delivered yet");
        CommandInvocation inv = invocations.get(0);
        String status = inv.statusAsString();
        if (status.equals("Success")) return done();
        if (COMMAND_ACTIVE.contains(status)) return new Outcome.Wait("patching " + b.get(INSTANCE) + ": " + status);
        return new Outcome.Failed("patching the temporary instance " + b.get(INSTANCE) + " ended " + status
                + (inv.statusDetails() == null || inv.statusDetails().equals(status)
                        ? ""
                        : " (" + inv.statusDetails() + ")")
                + " (command " + b.get(INSTALL_COMMAND) + ")");
    }

    @AwsActions("ec2:StopInstances")
    private Outcome stop(AmiBuild b) {
        client(Ec2Client.class, b).stopInstances(r -> r.instanceIds(b.get(INSTANCE)));
        return done();
    }

    @AwsActions("ec2:DescribeInstances")
    private Outcome waitStopped(AmiBuild b) {
        List<Instance> found =
                client(Ec2Client.class, b)
                        .describeInstances(r -> r.instanceIds(b.get(INSTANCE)))
                        .reservations()
                        .stream()
                        .flatMap(r -> r.instances().stream())
                        .toList();
        if (found.isEmpty()) return new Outcome.Wait(b.get(INSTANCE) + " not visible yet");
        InstanceStateName state = found.get(0).state().name();
        if (state == InstanceStateName.STOPPED) return done();
        if (state == InstanceStateName.TERMINATED || state == InstanceStateName.SHUTTING_DOWN) {
            return new Outcome.Failed(
                    "the temporary instance " + b.get(INSTANCE) + " was terminated before it could be imaged");
        }
        return new Outcome.Wait(b.get(INSTANCE) + " is " + state);
    }

    /** CreateTags: the image and its snapshots are tagged as they are created. */
    @AwsActions({"ec2:CreateImage", "ec2:CreateTags", "ec2:DescribeImages"})
    private Outcome image(AmiBuild b) {
        Ec2Client ec2 = client(Ec2Client.class, b);
        String name = AmiNames.imageName(b.group(), b.runId());
        List<Tag> tags = List.of(
                tag("Name", name),
                tag(AmiNames.GROUP_TAG, b.group()),
                tag(AmiNames.RUN_TAG, b.runId()),
                tag(AmiNames.SOURCE_TAG, b.get(SOURCE_AMI)));
        try {
            String id = ec2.createImage(r -> r.instanceId(b.get(INSTANCE))
                            .name(name)
                            .description("patchpilot: " + b.get(SOURCE_AMI) + " patched for " + b.group() + " in run "
                                    + b.runId())
                            .tagSpecifications(
                                    TagSpecification.builder()
                                            .resourceType(ResourceType.IMAGE)
                                            .tags(tags)
                                            .build(),
                                    TagSpecification.builder()
                                            .resourceType(ResourceType.SNAPSHOT)
                                            .tags(tags)
                                            .build()))
                    .imageId();
            return done(IMAGE, id, IMAGE_NAME, name);
        } catch (Ec2Exception e) {
            if (!"InvalidAMIName.Duplicate".equals(AwsErrors.code(e).orElse(""))) throw e;
            Image existing = imageNamed(ec2, name).orElseThrow(() -> e);
            return done(IMAGE, existing.imageId(), IMAGE_NAME, name);
        }
    }

    @AwsActions("ec2:DescribeImages")
    private Outcome waitImage(AmiBuild b) {
        List<Image> images = describeImages(client(Ec2Client.class, b), b.get(IMAGE));
        if (images.isEmpty()) return new Outcome.Wait("image " + b.get(IMAGE) + " not visible yet");
        Image i = images.get(0);
        if (i.state() == ImageState.AVAILABLE) return done();
        if (i.state() == ImageState.PENDING) return new Outcome.Wait("image " + i.imageId() + " is pending");
        return new Outcome.Failed("image " + i.imageId() + " is " + i.stateAsString()
                + (i.stateReason() == null ? "" : ": " + i.stateReason().message()));
    }

    @AwsActions("ec2:TerminateInstances")
    private Outcome terminate(AmiBuild b) {
        try {
            client(Ec2Client.class, b).terminateInstances(r -> r.instanceIds(b.get(INSTANCE)));
        } catch (Ec2Exception e) {
            if (!gone(e)) throw e;
        }
        return done();
    }

    /** A new version from the group's own version with only the AMI changed; $Default is never touched. */
    @AwsActions("ec2:CreateLaunchTemplateVersion")
    private Outcome version(AmiBuild b) {
        long number = client(Ec2Client.class, b)
                .createLaunchTemplateVersion(r -> r.launchTemplateId(b.get(LT_ID))
                        .sourceVersion(b.get(SOURCE_VERSION))
                        .clientToken(b.get(TOKEN))
                        .versionDescription(
                                "patchpilot " + b.runId() + ": " + b.get(SOURCE_AMI) + " patched as " + b.get(IMAGE))
                        .launchTemplateData(d -> d.imageId(b.get(IMAGE))))
                .launchTemplateVersion()
                .versionNumber();
        return done(NEW_VERSION, Long.toString(number));
    }

    /**
     * StartInstanceRefresh to the new version (an explicit number, so AWS can roll back), keeping
     * the window's healthy percentage, skipping instances that already match. A refresh towards
     * this version started by an earlier delivery of the step (before a crash) is followed, not
     * started again; another refresh in progress is waited for.
     */
    @AwsActions({
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:StartInstanceRefresh",
        "autoscaling:DescribeInstanceRefreshes",
        "ec2:RunInstances",
        "iam:PassRole"
    })
    private Outcome refresh(AmiBuild b) {
        AutoScalingClient asg = client(AutoScalingClient.class, b);
        Instant since = Instant.parse(b.get(CREATED)).minus(Duration.ofMinutes(5));
        Optional<InstanceRefresh> ours =
                asg.describeInstanceRefreshes(r -> r.autoScalingGroupName(b.group())).instanceRefreshes().stream()
                        .filter(r -> b.get(NEW_VERSION).equals(desiredVersion(r))
                                && r.startTime() != null
                                && r.startTime().isAfter(since))
                        .findFirst();
        if (ours.isPresent())
            return done(REFRESH_ID, ours.get().instanceRefreshId()); // started by an earlier delivery of this step
        AutoScalingGroup g = group(asg, b);
        DesiredConfiguration desired = b.mixed()
                ? DesiredConfiguration.builder()
                        .mixedInstancesPolicy(withVersion(g.mixedInstancesPolicy(), b.get(LT_ID), b.get(NEW_VERSION)))
                        .build()
                : DesiredConfiguration.builder()
                        .launchTemplate(spec(b.get(LT_ID), b.get(NEW_VERSION)))
                        .build();
        try {
            String id = asg.startInstanceRefresh(r -> r.autoScalingGroupName(b.group())
                            .strategy("Rolling")
                            .desiredConfiguration(desired)
                            .preferences(p -> p.minHealthyPercentage(b.minHealthy())
                                    .maxHealthyPercentage(AmiPipeline.maxHealthyPercentage(b.minHealthy()))
                                    .skipMatching(true)
                                    .autoRollback(true)))
                    .instanceRefreshId();
            return done(REFRESH_ID, id);
        } catch (InstanceRefreshInProgressException e) {
            InstanceRefresh active =
                    asg.describeInstanceRefreshes(r -> r.autoScalingGroupName(b.group())).instanceRefreshes().stream()
                            .filter(r -> REFRESH_ACTIVE.contains(r.statusAsString()))
                            .findFirst()
                            .orElse(null);
            if (active == null) return new Outcome.Wait("an instance refresh of " + b.group() + " is ending");
            if (b.get(NEW_VERSION).equals(desiredVersion(active))) return done(REFRESH_ID, active.instanceRefreshId());
            return new Outcome.Wait("another instance refresh (" + active.instanceRefreshId() + ", "
                    + active.statusAsString() + ") is in progress");
        }
    }

    /** Refresh not requested: new instances launch from the new version; running ones stay. */
    @AwsActions({
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:UpdateAutoScalingGroup",
        "ec2:RunInstances",
        "iam:PassRole"
    })
    private Outcome publish(AmiBuild b) {
        setGroupVersion(b, b.get(NEW_VERSION));
        return done();
    }

    @AwsActions("autoscaling:DescribeInstanceRefreshes")
    private Outcome waitRefresh(AmiBuild b) {
        InstanceRefresh r = instanceRefresh(b);
        String status = r.statusAsString();
        if (status.equals("Successful")) return done(REFRESH_PERCENT, "100");
        if (REFRESH_ACTIVE.contains(status)) {
            return new Outcome.Wait(
                    "instance refresh " + r.instanceRefreshId() + " " + status + " " + nz(r.percentageComplete())
                            + " %",
                    Outcome.facts(REFRESH_PERCENT, Integer.toString(nz(r.percentageComplete()))));
        }
        return new Outcome.Failed("instance refresh " + r.instanceRefreshId() + " ended " + status
                + (r.statusReason() != null
                        ? ": " + r.statusReason()
                        : r.rollbackDetails() != null && r.rollbackDetails().rollbackReason() != null
                                ? ": " + r.rollbackDetails().rollbackReason()
                                : ""));
    }

    @AwsActions("ssm:ListCommands")
    private Outcome waitScan(AmiBuild b) {
        List<Command> commands = client(SsmClient.class, b)
                .listCommands(r -> r.commandId(b.get(SCAN_COMMAND)))
                .commands();
        if (commands.isEmpty()) return new Outcome.Wait("scan command " + b.get(SCAN_COMMAND) + " not visible yet");
        Command c = commands.get(0);
        String status = c.statusAsString();
        if (COMMAND_ACTIVE.contains(status))
            return new Outcome.Wait("scan " + status + " " + nz(c.completedCount()) + "/" + nz(c.targetCount()));
        String result = status + ": " + (nz(c.completedCount()) - nz(c.errorCount())) + " of " + nz(c.targetCount())
                + " instances scanned";
        if (status.equals("Success")) return done(SCAN_RESULT, result);
        return new Outcome.Failed("scan of the new instances " + result + " (command " + c.commandId() + ")");
    }

    /**
     * The group's patched images beyond the newest {@code retain}, except those a launch template
     * version in use references: the group's new version, the template's default and latest.
     */
    @AwsActions({"ec2:DescribeImages", "ec2:DescribeLaunchTemplateVersions"})
    private Outcome retention(AmiBuild b) {
        Ec2Client ec2 = client(Ec2Client.class, b);
        List<RetentionPolicy.Image> images = new ArrayList<>();
        ec2.describeImagesPaginator(r -> r.owners("self")
                        .filters(Filter.builder()
                                .name("tag:" + AmiNames.GROUP_TAG)
                                .values(b.group())
                                .build()))
                .images()
                .forEach(i -> images.add(new RetentionPolicy.Image(i.imageId(), Instant.parse(i.creationDate()))));
        Set<String> inUse = new HashSet<>();
        inUse.add(b.get(IMAGE));
        ec2.describeLaunchTemplateVersions(
                        r -> r.launchTemplateId(b.get(LT_ID)).versions(b.get(NEW_VERSION), "$Default", "$Latest"))
                .launchTemplateVersions()
                .forEach(v -> inUse.add(v.launchTemplateData().imageId()));
        return done(PRUNE, String.join(",", RetentionPolicy.toDeregister(images, inUse, settings.retain())));
    }

    /** One old image per step: deregistered, then its snapshots deleted. */
    private Outcome prune(AmiBuild b) {
        List<String> left = new ArrayList<>(b.list(PRUNE));
        if (left.isEmpty()) return done();
        String image = left.remove(0);
        removeImage(client(Ec2Client.class, b), image);
        List<String> pruned = new ArrayList<>(b.list(PRUNED));
        pruned.add(image);
        Map<String, String> facts = Outcome.facts(PRUNE, String.join(",", left), PRUNED, String.join(",", pruned));
        return left.isEmpty() ? new Outcome.Done(facts) : new Outcome.Again(facts);
    }

    // ------------------------------------------------------------------ cleanup

    /** A refresh that ran out of time is rolled back (or, where AWS cannot, cancelled). */
    @AwsActions({"autoscaling:RollbackInstanceRefresh", "autoscaling:CancelInstanceRefresh"})
    private Outcome rollbackRefresh(AmiBuild b) {
        AutoScalingClient asg = client(AutoScalingClient.class, b);
        try {
            asg.rollbackInstanceRefresh(r -> r.autoScalingGroupName(b.group()));
        } catch (ActiveInstanceRefreshNotFoundException e) {
            return done();
        } catch (IrreversibleInstanceRefreshException e) {
            try {
                asg.cancelInstanceRefresh(r -> r.autoScalingGroupName(b.group()));
            } catch (ActiveInstanceRefreshNotFoundException gone) {
                return done();
            }
        }
        return done();
    }

    @AwsActions("autoscaling:DescribeInstanceRefreshes")
    private Outcome waitRollback(AmiBuild b) {
        if (!b.has(REFRESH_ID)) return done();
        InstanceRefresh r = instanceRefresh(b);
        return REFRESH_ACTIVE.contains(r.statusAsString())
                ? new Outcome.Wait("instance refresh " + r.instanceRefreshId() + " " + r.statusAsString())
                : done();
    }

    /** The group back on the version it had when the run selected it, unless it is there already. */
    @AwsActions({
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:UpdateAutoScalingGroup",
        "ec2:RunInstances",
        "iam:PassRole"
    })
    private Outcome restoreGroup(AmiBuild b) {
        AutoScalingGroup g = group(client(AutoScalingClient.class, b), b);
        String current = b.mixed()
                ? g.mixedInstancesPolicy()
                        .launchTemplate()
                        .launchTemplateSpecification()
                        .version()
                : g.launchTemplate() == null ? null : g.launchTemplate().version();
        if (b.groupVersion().equals(current == null ? "$Default" : current)) return done();
        setGroupVersion(b, b.groupVersion());
        return done();
    }

    /** The build's version, found by its image when the create's answer was lost. */
    @AwsActions({"ec2:DeleteLaunchTemplateVersions", "ec2:DescribeLaunchTemplateVersions"})
    private Outcome deleteVersion(AmiBuild b) {
        Ec2Client ec2 = client(Ec2Client.class, b);
        String version = b.get(NEW_VERSION);
        if (version.isEmpty() && b.has(IMAGE)) {
            LaunchTemplateVersion latest = ec2.describeLaunchTemplateVersions(
                            r -> r.launchTemplateId(b.get(LT_ID)).versions("$Latest"))
                    .launchTemplateVersions()
                    .get(0);
            if (b.get(IMAGE).equals(latest.launchTemplateData().imageId()))
                version = Long.toString(latest.versionNumber());
        }
        if (version.isEmpty()) return done();
        String v = version;
        DeleteLaunchTemplateVersionsResponse r = ec2.deleteLaunchTemplateVersions(
                d -> d.launchTemplateId(b.get(LT_ID)).versions(v));
        var problem = r.unsuccessfullyDeletedLaunchTemplateVersions().stream()
                .filter(u -> !"launchTemplateVersionDoesNotExist"
                        .equals(u.responseError().codeAsString()))
                .findFirst();
        if (problem.isPresent()) {
            return new Outcome.Failed("version " + v + " of " + b.get(LT_ID) + " not deleted: "
                    + problem.get().responseError().codeAsString() + " "
                    + problem.get().responseError().message());
        }
        return done();
    }

    /** The build's image, found by its deterministic name when its id was never recorded. */
    @AwsActions("ec2:DescribeImages")
    private Outcome deleteImage(AmiBuild b) {
        Ec2Client ec2 = client(Ec2Client.class, b);
        String id = b.has(IMAGE)
                ? b.get(IMAGE)
                : imageNamed(ec2, AmiNames.imageName(b.group(), b.runId()))
                        .map(Image::imageId)
                        .orElse("");
        if (!id.isEmpty()) removeImage(ec2, id);
        return done(IMAGE, id.isEmpty() ? null : id);
    }

    /** Every instance of this build that is not terminated, found by its build tag (also one whose id was never recorded). */
    @AwsActions({"ec2:DescribeInstances", "ec2:TerminateInstances"})
    private Outcome terminateBuild(AmiBuild b) {
        Ec2Client ec2 = client(Ec2Client.class, b);
        List<String> alive = ec2
                .describeInstancesPaginator(r -> r.filters(
                        Filter.builder()
                                .name("tag:" + AmiNames.BUILD_TAG)
                                .values(b.get(TOKEN))
                                .build(),
                        Filter.builder()
                                .name("instance-state-name")
                                .values("pending", "running", "stopping", "stopped")
                                .build()))
                .reservations()
                .stream()
                .flatMap(r -> r.instances().stream())
                .map(Instance::instanceId)
                .toList();
        if (!alive.isEmpty()) ec2.terminateInstances(r -> r.instanceIds(alive));
        return done();
    }

    // ------------------------------------------------------------------ helpers

    @AwsActions({"ec2:DescribeImages", "ec2:DeregisterImage", "ec2:DeleteSnapshot"})
    private void removeImage(Ec2Client ec2, String imageId) {
        List<Image> images = describeImages(ec2, imageId);
        List<String> snapshots = images.isEmpty()
                ? List.of()
                : images.get(0).blockDeviceMappings().stream()
                        .filter(m -> m.ebs() != null && m.ebs().snapshotId() != null)
                        .map(m -> m.ebs().snapshotId())
                        .toList();
        try {
            ec2.deregisterImage(r -> r.imageId(imageId));
        } catch (Ec2Exception e) {
            if (!gone(e)) throw e;
        }
        for (String snapshot : snapshots) {
            try {
                ec2.deleteSnapshot(r -> r.snapshotId(snapshot));
            } catch (Ec2Exception e) {
                if (!gone(e)) throw e;
            }
        }
    }

    private static List<Image> describeImages(Ec2Client ec2, String imageId) {
        try {
            return ec2.describeImages(r -> r.imageIds(imageId)).images();
        } catch (Ec2Exception e) {
            if (gone(e)) return List.of();
            throw e;
        }
    }

    private static Optional<Image> imageNamed(Ec2Client ec2, String name) {
        return ec2
                .describeImages(r -> r.owners("self")
                        .filters(Filter.builder().name("name").values(name).build()))
                .images()
                .stream()
                .findFirst();
    }

    private InstanceRefresh instanceRefresh(AmiBuild b) {
        return client(AutoScalingClient.class, b)
                .describeInstanceRefreshes(
                        r -> r.autoScalingGroupName(b.group()).instanceRefreshIds(b.get(REFRESH_ID)))
                .instanceRefreshes()
                .get(0);
    }

    private static AutoScalingGroup group(AutoScalingClient asg, AmiBuild b) {
        List<AutoScalingGroup> groups = asg.describeAutoScalingGroups(r -> r.autoScalingGroupNames(b.group()))
                .autoScalingGroups();
        if (groups.isEmpty()) throw new PermanentFailure("AutoScaling group " + b.group() + " no longer exists");
        return groups.get(0);
    }

    private void setGroupVersion(AmiBuild b, String version) {
        AutoScalingClient asg = client(AutoScalingClient.class, b);
        if (b.mixed()) {
            MixedInstancesPolicy policy = withVersion(group(asg, b).mixedInstancesPolicy(), b.get(LT_ID), version);
            asg.updateAutoScalingGroup(r -> r.autoScalingGroupName(b.group()).mixedInstancesPolicy(policy));
        } else {
            asg.updateAutoScalingGroup(
                    r -> r.autoScalingGroupName(b.group()).launchTemplate(spec(b.get(LT_ID), version)));
        }
    }

    /** The group's own mixed-instances policy (overrides, distribution) with only the template version changed. */
    static MixedInstancesPolicy withVersion(MixedInstancesPolicy policy, String launchTemplateId, String version) {
        return policy.toBuilder()
                .launchTemplate(policy.launchTemplate().toBuilder()
                        .launchTemplateSpecification(spec(launchTemplateId, version))
                        .build())
                .build();
    }

    /** By id only: AWS refuses a specification with both id and name. */
    static LaunchTemplateSpecification spec(String launchTemplateId, String version) {
        return LaunchTemplateSpecification.builder()
                .launchTemplateId(launchTemplateId)
                .version(version)
                .build();
    }

    private static String desiredVersion(InstanceRefresh r) {
        DesiredConfiguration d = r.desiredConfiguration();
        if (d == null) return "";
        if (d.launchTemplate() != null) return String.valueOf(d.launchTemplate().version());
        if (d.mixedInstancesPolicy() != null
                && d.mixedInstancesPolicy().launchTemplate() != null
                && d.mixedInstancesPolicy().launchTemplate().launchTemplateSpecification() != null) {
            return String.valueOf(d.mixedInstancesPolicy()
                    .launchTemplate()
                    .launchTemplateSpecification()
                    .version());
        }
        return "";
    }

    private static Map<String, String> patchTags(AmiBuild b) {
        if (!b.has(TAGS)) return Map.of();
        try {
            return JSON.readValue(b.get(TAGS), new TypeReference<Map<String, String>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable patch tags of " + b.group(), e);
        }
    }

    private static boolean gone(Throwable e) {
        return AwsErrors.code(e).map(GONE::contains).orElse(false);
    }

    private static Tag tag(String key, String value) {
        return Tag.builder().key(key).value(value).build();
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
