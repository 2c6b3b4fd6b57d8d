package io.patchpilot.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateOverrides;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.MixedInstancesPolicy;
import software.amazon.awssdk.services.autoscaling.model.Tag;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.CreateMaintenanceWindowRequest;
import software.amazon.awssdk.services.ssm.model.MaintenanceWindowLambdaParameters;
import software.amazon.awssdk.services.ssm.model.MaintenanceWindowTaskInvocationParameters;
import software.amazon.awssdk.services.ssm.model.MaintenanceWindowTaskType;
import software.amazon.awssdk.services.ssm.model.RegisterTaskWithMaintenanceWindowRequest;

/**
 * Creates the fleet file's organization in the local AWS with ordinary AWS calls made in each
 * member account through its assumed role, then tells the simulator the facts AWS APIs cannot
 * set (missing patches, SSM agent, failing patch runs, failing refreshes, disabled regions).
 */
public final class FleetLoader {
    /** Stock images moto serves in every region. */
    public static final String DEFAULT_LINUX_AMI = "ami-04681a1dbd79675a5";

    public static final String DEFAULT_WINDOWS_AMI = "ami-b7e93bce";

    private final AwsClients aws;
    private final LocalAwsControl control;

    public FleetLoader(AwsClients aws, LocalAwsControl control) {
        this.aws = aws;
        this.control = control;
    }

    public record Summary(int accounts, int regions, int instances, int groups) {}

    /** The organization and its member accounts (ACTIVE), before anything is deployed into them. */
    public static void createOrganization(LocalAwsControl control, FleetFile fleet) {
        List<Map<String, String>> accounts = new ArrayList<>();
        for (FleetFile.Account a : fleet.accounts())
            accounts.add(Map.of("id", a.id(), "name", a.name(), "email", a.email()));
        control.post("accounts", Map.of("accounts", accounts));
    }

    /** Launches the fleet into the member accounts (the member StackSet is already deployed there). */
    public Summary load(FleetFile fleet) {
        Map<String, Object> simInstances = new ConcurrentHashMap<>();
        Map<String, Object> simGroups = new ConcurrentHashMap<>();
        Map<String, List<String>> disabled = new LinkedHashMap<>();
        AtomicInteger instances = new AtomicInteger();
        AtomicInteger groups = new AtomicInteger();
        List<Runnable> work = new ArrayList<>();
        for (FleetFile.Account account : fleet.accounts()) {
            if (!account.disabledRegions().isEmpty()) disabled.put(account.id(), account.disabledRegions());
            account.regions()
                    .forEach((region, content) -> work.add(() -> {
                        AccountRegion target = new AccountRegion(account.id(), region);
                        for (FleetFile.Instance spec : content.instances()) {
                            for (Instance i : runInstances(target, spec)) {
                                simInstances.put(i.instanceId(), instanceSim(target, spec));
                                instances.incrementAndGet();
                            }
                        }
                        for (FleetFile.Group spec : content.autoScalingGroups()) {
                            createGroup(target, spec);
                            simGroups.put(
                                    target.account() + "/" + target.region() + "/" + spec.name(),
                                    Map.of("refreshFails", spec.refreshFails()));
                            groups.incrementAndGet();
                        }
                        for (FleetFile.SeedWindow spec : content.seedWindows()) createSeedWindow(target, spec);
                    }));
        }
        runAll(work);
        Map<String, Object> sim = new LinkedHashMap<>();
        sim.put("instances", simInstances);
        sim.put("groups", simGroups);
        sim.put("disabledRegions", disabled);
        control.post("sim", sim);
        return new Summary(fleet.accounts().size(), fleet.regions().size(), instances.get(), groups.get());
    }

    private List<Instance> runInstances(AccountRegion target, FleetFile.Instance spec) {
        Ec2Client ec2 = aws.member(Ec2Client.class, target, "fleet");
        List<software.amazon.awssdk.services.ec2.model.Tag> tags = new ArrayList<>();
        tags.add(ec2Tag("Name", spec.name()));
        spec.tags().forEach((k, v) -> tags.add(ec2Tag(k, v)));
        String ami = spec.ami() != null
                ? spec.ami()
                : spec.platform() == FleetFile.Platform.Windows ? DEFAULT_WINDOWS_AMI : DEFAULT_LINUX_AMI;
        List<Instance> launched = new ArrayList<>();
        int remaining = spec.count();
        while (remaining > 0) {
            int batch = Math.min(remaining, 500);
            launched.addAll(ec2.runInstances(r -> r.imageId(ami)
                            .instanceType(InstanceType.fromValue(spec.instanceType()))
                            .minCount(batch)
                            .maxCount(batch)
                            .tagSpecifications(TagSpecification.builder()
                                    .resourceType(ResourceType.INSTANCE)
                                    .tags(tags)
                                    .build()))
                    .instances());
            remaining -= batch;
        }
        if (spec.state() == FleetFile.State.stopped) {
            ec2.stopInstances(r ->
                    r.instanceIds(launched.stream().map(Instance::instanceId).toList()));
        }
        return launched;
    }

    /** The window and Lambda task(s) the AWS sample's window product creates (maintenance_window_creation.py). */
    private void createSeedWindow(AccountRegion target, FleetFile.SeedWindow spec) {
        SsmClient ssm = aws.member(SsmClient.class, target, "fleet");
        CreateMaintenanceWindowRequest.Builder window = CreateMaintenanceWindowRequest.builder()
                .name(spec.name())
                .schedule(spec.schedule())
                .scheduleTimezone("UTC")
                .duration(spec.duration())
                .cutoff(spec.cutoff())
                .allowUnassociatedTargets(true);
        if (spec.startDate() != null) window.startDate(spec.startDate());
        String id = ssm.createMaintenanceWindow(window.build()).windowId();
        String role = "arn:aws:iam::" + target.account() + ":role/MaintenanceWindowServiceRole";
        ObjectNode payload = new ObjectMapper()
                .createObjectNode()
                .put("env", spec.environment())
                .put("include_asg", spec.includeAsg())
                .put("retain_healthy_percentage", spec.retainHealthyPercentage())
                .put("patching_operation", spec.patchingOperation())
                .put("operation_post_patching", spec.operationPostPatching())
                .put("run_patch_baseline_install_override_list", "");
        registerLambdaTask(ssm, id, target, "MaintenanceWindowTask", role, payload.toString());
        if ("Yes".equalsIgnoreCase(spec.includeAsg())) {
            payload.put("refresh_asg_instances", spec.refreshAsgInstances());
            registerLambdaTask(ssm, id, target, "MaintenanceWindowASGTask", role, payload.toString());
        }
    }

    private static void registerLambdaTask(
            SsmClient ssm, String windowId, AccountRegion target, String function, String role, String payload) {
        ssm.registerTaskWithMaintenanceWindow(RegisterTaskWithMaintenanceWindowRequest.builder()
                .windowId(windowId)
                .taskArn("arn:aws:lambda:" + target.region() + ":" + target.account() + ":function:" + function)
                .serviceRoleArn(role)
                .taskType(MaintenanceWindowTaskType.LAMBDA)
                .taskInvocationParameters(MaintenanceWindowTaskInvocationParameters.builder()
                        .lambda(MaintenanceWindowLambdaParameters.builder()
                                .payload(SdkBytes.fromString(payload, StandardCharsets.UTF_8))
                                .build())
                        .build())
                .build());
    }

    private void createGroup(AccountRegion target, FleetFile.Group spec) {
        Ec2Client ec2 = aws.member(Ec2Client.class, target, "fleet");
        String ami = spec.ami() != null ? spec.ami() : DEFAULT_LINUX_AMI;
        String templateName = spec.name() + "-lt";
        ec2.createLaunchTemplate(r -> r.launchTemplateName(templateName)
                .launchTemplateData(d -> d.imageId(ami).instanceType(InstanceType.fromValue(spec.instanceType()))));
        AutoScalingClient asg = aws.member(AutoScalingClient.class, target, "fleet");
        LaunchTemplateSpecification lt = LaunchTemplateSpecification.builder()
                .launchTemplateName(templateName)
                .version("1")
                .build();
        List<Tag> tags = new ArrayList<>();
        spec.tags()
                .forEach((k, v) -> tags.add(Tag.builder()
                        .key(k)
                        .value(v)
                        .propagateAtLaunch(true)
                        .resourceId(spec.name())
                        .resourceType("auto-scaling-group")
                        .build()));
        asg.createAutoScalingGroup(r -> {
            r.autoScalingGroupName(spec.name())
                    .minSize(spec.min())
                    .maxSize(spec.max())
                    .desiredCapacity(spec.desired())
                    .availabilityZones(target.region() + "a")
                    .tags(tags);
            if (spec.mixedInstances()) {
                r.mixedInstancesPolicy(MixedInstancesPolicy.builder()
                        .launchTemplate(t -> t.launchTemplateSpecification(lt)
                                .overrides(
                                        LaunchTemplateOverrides.builder()
                                                .instanceType(spec.instanceType())
                                                .build(),
                                        LaunchTemplateOverrides.builder()
                                                .instanceType("t3.small")
                                                .build()))
                        .build());
            } else {
                r.launchTemplate(lt);
            }
        });
    }

    private static Map<String, Object> instanceSim(AccountRegion target, FleetFile.Instance spec) {
        List<Map<String, Object>> patches = new ArrayList<>();
        for (FleetFile.Patch p : spec.missingPatches()) {
            patches.add(Map.of(
                    "id",
                    p.id(),
                    "title",
                    p.title(),
                    "classification",
                    p.classification(),
                    "severity",
                    p.severity(),
                    "releaseDate",
                    p.releaseDate() + "T00:00:00Z",
                    "rebootRequired",
                    p.rebootRequired()));
        }
        Map<String, Object> sim = new LinkedHashMap<>();
        sim.put("account", target.account());
        sim.put("region", target.region());
        sim.put("ssmManaged", spec.ssmManaged());
        sim.put("platform", spec.platform().name());
        sim.put("failPatching", spec.failPatching());
        sim.put("missingPatches", patches);
        return sim;
    }

    private static software.amazon.awssdk.services.ec2.model.Tag ec2Tag(String k, String v) {
        return software.amazon.awssdk.services.ec2.model.Tag.builder()
                .key(k)
                .value(v)
                .build();
    }

    private static void runAll(List<Runnable> work) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, Math.max(1, work.size())));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Runnable r : work) futures.add(pool.submit(r));
            for (Future<?> f : futures) f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading the fleet");
        } finally {
            pool.shutdownNow();
        }
    }
}
