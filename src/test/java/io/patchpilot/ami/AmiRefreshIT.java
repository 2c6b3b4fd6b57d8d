package io.patchpilot.ami;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.InstanceRefresh;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateVersion;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * The AMI refresh end to end: the real service against the local AWS, a window that includes
 * ASGs fired as EventBridge would, and an emergency request; asserted on what an operator sees in
 * AWS (images and their tags, launch template versions, the groups' versions and refreshes, no
 * temporary instance left) and in {@code patchpilot runs show}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AmiRefreshIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACCOUNT = "111111111111";
    private static final AccountRegion HERE = new AccountRegion(ACCOUNT, "us-east-1");
    private static final String FLEET = """
            accounts:
              - id: "111111111111"
                name: ami-apps
                regions:
                  us-east-1:
                    instances:
                      - {name: app, platform: Linux, tags: {environment: Dev}}
                    autoScalingGroups:
                      - {name: web-asg, desired: 2, min: 1, max: 4, tags: {environment: Dev}}
                      - {name: mixed-asg, desired: 2, min: 1, max: 4, mixedInstances: true, tags: {environment: Dev}}
                      - {name: failing-asg, desired: 2, min: 1, max: 4, refreshFails: true, tags: {environment: Dev}}
                      - {name: k8s-asg, desired: 1, min: 1, max: 2, tags: {environment: Dev, "k8s.io/cluster-autoscaler/enabled": "true"}}
                      - {name: empty-asg, desired: 0, min: 0, max: 2, tags: {environment: Dev}}
            """;

    private LocalMode local;
    private Ledger ledger;
    private String sourceAmi;
    private List<String> premade;

    @BeforeAll
    void start() throws Exception {
        Path fleet = Files.writeString(Files.createTempDirectory("ami-fleet").resolve("fleet.yaml"), FLEET);
        // three receives before the DLQ: the give-up case below waits out 5 s + 10 s of backoff, not 75 s
        local = LocalFixture.start(
                fleet.toString(),
                Map.of("patchpilot.queue.visibility-seconds", "5", "patchpilot.queue.max-receive-count", "3"));
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
        sourceAmi = versions("web-asg").get(0).launchTemplateData().imageId();
        // a group on a launch configuration, as older accounts still have them
        AutoScalingClient asg = asg();
        asg.createLaunchConfiguration(
                r -> r.launchConfigurationName("legacy-lc").imageId(sourceAmi).instanceType("t3.micro"));
        asg.createAutoScalingGroup(r -> r.autoScalingGroupName("legacy-asg")
                .launchConfigurationName("legacy-lc")
                .minSize(0)
                .maxSize(1)
                .desiredCapacity(0)
                .availabilityZones("us-east-1a")
                .tags(t -> t.key("environment")
                        .value("Dev")
                        .propagateAtLaunch(true)
                        .resourceId("legacy-asg")
                        .resourceType("auto-scaling-group")));
        // three patched images of web-asg from earlier runs: retention keeps the newest three
        String old = ec2().runInstances(r -> r.imageId(sourceAmi).minCount(1).maxCount(1))
                .instances()
                .get(0)
                .instanceId();
        for (int i = 1; i <= 3; i++) {
            int n = i;
            ec2().createImage(r -> r.instanceId(old)
                    .name("patchpilot-web-asg-earlier-" + n)
                    .tagSpecifications(t -> t.resourceType("image").tags(tag(AmiNames.GROUP_TAG, "web-asg"))));
        }
        ec2().terminateInstances(r -> r.instanceIds(old));
        premade = images("web-asg").stream()
                .sorted(Comparator.comparing(Image::creationDate).thenComparing(Image::imageId))
                .map(Image::imageId)
                .toList();
        // the sweep tags the groups for the Default window, as in production
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> tagsOf("web-asg").containsKey("maintenance_window")
                        && tagsOf("legacy-asg").containsKey("maintenance_window")
                        && LocalFixture.depth(local, "patchpilot-work") == 0);
        // exempt groups are never tagged; an owner may have tagged one by hand: still exempt
        asg.createOrUpdateTags(r -> r.tags(t -> t.key("maintenance_window")
                .value("Default_maintenance_window")
                .propagateAtLaunch(false)
                .resourceId("k8s-asg")
                .resourceType("auto-scaling-group")));
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    @Test
    @Order(1)
    void a_window_with_asgs_gives_each_group_one_patched_ami_one_version_and_one_refresh_and_leaves_nothing_behind()
            throws Exception {
        Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow();
        String runId = fire(occurrence);
        Map<String, AttributeValue> run = await().atMost(Duration.ofSeconds(180))
                .until(
                        () -> ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElse(null),
                        r -> r != null
                                && Set.of("Succeeded", "CompletedWithFailures")
                                        .contains(r.get("status").s()));

        for (String group : List.of("web-asg", "mixed-asg")) {
            List<Image> built = images(group).stream()
                    .filter(i -> tag(i, AmiNames.RUN_TAG).equals(runId))
                    .toList();
            assertEquals(1, built.size(), group + ": one patched AMI");
            Image image = built.get(0);
            assertEquals(sourceAmi, tag(image, AmiNames.SOURCE_TAG), group);
            assertEquals(AmiNames.imageName(group, runId), image.name());
            List<LaunchTemplateVersion> versions = versions(group);
            assertEquals(2, versions.size(), group + ": one new version");
            LaunchTemplateVersion v2 = versions.get(1);
            assertEquals(image.imageId(), v2.launchTemplateData().imageId());
            assertEquals(
                    "t3.micro",
                    v2.launchTemplateData().instanceTypeAsString(),
                    "the rest of the version is the group's own");
            assertEquals(
                    1L,
                    versions.stream()
                            .filter(LaunchTemplateVersion::defaultVersion)
                            .findFirst()
                            .orElseThrow()
                            .versionNumber(),
                    "$Default is not touched");
            assertEquals("2", groupVersion(group));
            List<InstanceRefresh> refreshes = refreshes(group);
            assertEquals(1, refreshes.size(), group);
            assertEquals("Successful", refreshes.get(0).statusAsString());
            assertEquals(90, refreshes.get(0).preferences().minHealthyPercentage(), "the window's healthy percentage");
            assertTrue(refreshes.get(0).preferences().skipMatching()
                    && refreshes.get(0).preferences().autoRollback());
            assertEquals(
                    Set.of(image.imageId()), imagesOfInstances(group), group + ": every instance runs the patched AMI");
        }
        // an empty group (the seed's Lambda crashed on one) gets its image and version like the others
        assertEquals("Refreshed", state(runId, "empty-asg"));
        assertEquals("2", groupVersion("empty-asg"));
        assertEquals(1, images("empty-asg").size());
        AutoScalingGroup mixed = group("mixed-asg");
        assertEquals(
                List.of("t3.micro", "t3.small"),
                mixed.mixedInstancesPolicy().launchTemplate().overrides().stream()
                        .map(o -> o.instanceType())
                        .toList(),
                "the mixed-instances overrides are kept");

        // the failing refresh: rolled back, and what the build made is gone
        assertEquals("1", groupVersion("failing-asg"));
        assertEquals(1, versions("failing-asg").size(), "the new version is deleted");
        assertTrue(images("failing-asg").isEmpty(), "the new image is deregistered");
        Map<String, AttributeValue> failing =
                ledger.get(RunKeys.pk(runId), AmiBuild.sk(HERE, "failing-asg")).orElseThrow();
        assertEquals("Failed", failing.get("state").s());
        assertEquals("WaitRefresh", failing.get("failedStep").s());
        assertTrue(
                failing.get("reason").s().contains("RollbackSuccessful"),
                failing.get("reason").s());

        // exempt and launch-configuration groups untouched
        assertEquals(1, versions("k8s-asg").size());
        assertTrue(refreshes("k8s-asg").isEmpty());
        assertTrue(refreshes("legacy-asg").isEmpty());
        assertEquals("legacy-lc", group("legacy-asg").launchConfigurationName());
        assertEquals("Skipped", state(runId, "k8s-asg"));
        assertEquals("NeedsMigration", state(runId, "legacy-asg"));

        assertTrue(buildInstancesAlive().isEmpty(), "no temporary instance left: " + buildInstancesAlive());

        // retention: the newest three patched images of web-asg stay, the oldest is gone with its snapshot
        Set<String> webImages = images("web-asg").stream().map(Image::imageId).collect(Collectors.toSet());
        assertEquals(3, webImages.size(), webImages.toString());
        assertFalse(webImages.contains(premade.get(0)), "the oldest earlier image is deregistered");
        assertTrue(webImages.containsAll(premade.subList(1, 3)));
        assertTrue(
                ec2().describeSnapshots(r -> r.ownerIds("self")).snapshots().stream()
                        .noneMatch(
                                s -> s.description() != null && s.description().contains(premade.get(0))),
                "its snapshot is deleted");

        JsonNode counts = JSON.readTree(run.get("counts").s());
        assertEquals(3, counts.path("asgsRefreshed").asInt(), counts.toString());
        assertEquals(1, counts.path("asgsFailed").asInt(), counts.toString());
        assertEquals(1, counts.path("asgsSkipped").asInt(), counts.toString());
        assertEquals(1, counts.path("asgsNeedsMigration").asInt(), counts.toString());
        assertEquals("CompletedWithFailures", run.get("status").s());
        // by id: the target also lists skipped instances (group members, a build instance seen at discovery) first
        String app = ec2().describeInstances(
                        r -> r.filters(f -> f.name("tag:Name").values("app")))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .instanceId();
        assertEquals(
                "Success",
                JSON.readTree(ledger.get(RunKeys.pk(runId), "TARGET#" + ACCOUNT + "#us-east-1")
                                .orElseThrow()
                                .get("instances")
                                .s())
                        .path(app)
                        .path("status")
                        .asText(),
                "the standalone instance is patched as before");
        assertTrue(ledger.get(RunKeys.pk(runId), AmiBuild.sk(HERE, "web-asg"))
                .orElseThrow()
                .get("scan")
                .s()
                .startsWith("Success: 2 of 2"));

        InProcessCli.Result show = InProcessCli.run(local, "runs", "show", runId);
        System.out.println(show.out());
        assertTrue(show.out().contains("111111111111/us-east-1  asg web-asg  Refreshed"), show.out());
        assertTrue(
                show.out()
                        .contains(
                                "111111111111/us-east-1  asg failing-asg  Failed  (at WaitRefresh: instance refresh "),
                show.out());
        assertTrue(
                show.out().contains("asg legacy-asg  NeedsMigration  (uses launch configuration legacy-lc"),
                show.out());
        assertTrue(
                show.out().contains("asg k8s-asg  Skipped  (exempt: Kubernetes cluster-autoscaler group"), show.out());
        assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty());
    }

    @Test
    @Order(2)
    void an_emergency_including_asgs_refreshes_the_environments_groups_and_rides_out_a_transient_fault()
            throws Exception {
        Set<String> imagesBefore =
                images("web-asg").stream().map(Image::imageId).collect(Collectors.toSet());
        // CreateImage fails with a 5xx for every SDK attempt of one delivery: SQS delivers the step again
        local.localAws()
                .control()
                .post(
                        "faults",
                        Map.of(
                                "rules",
                                List.of(Map.of(
                                        "service",
                                        "ec2",
                                        "operation",
                                        "CreateImage",
                                        "errorRate",
                                        1.0,
                                        "times",
                                        local.config().endpoints().maxAttempts()))));
        String request =
                "{\"requestId\":\"chg-ami-1\",\"env\":\"Dev\",\"include_asg\":\"Yes\",\"retain_healthy_percentage\":50,"
                        + "\"refresh_asg_instances\":\"Yes\",\"accounts\":[\"111111111111\"],\"regions\":[\"us-east-1\"],\"reason\":\"CVE-2026-4242\"}";
        Path file = Files.writeString(Files.createTempFile("emergency", ".json"), request);
        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "start", file.toString(), "--as", "oncall-requester")
                        .exit());
        Map<String, AttributeValue> run = await().atMost(Duration.ofSeconds(180))
                .until(
                        () -> ledger.get(RunKeys.pk("chg-ami-1"), RunKeys.RUN).orElse(null),
                        r -> r != null
                                && Set.of("Succeeded", "CompletedWithFailures")
                                        .contains(r.get("status").s()));
        assertFalse(run.containsKey("note"), "AutoScaling groups are refreshed now: nothing to say they are not");
        assertTrue(local.localAws().control().get("faults").path("rules").isEmpty(), "the fault was hit");

        assertEquals("Refreshed", state("chg-ami-1", "web-asg"));
        List<Image> built = images("web-asg").stream()
                .filter(i -> tag(i, AmiNames.RUN_TAG).equals("chg-ami-1"))
                .toList();
        assertEquals(1, built.size(), "one image despite the redelivered step");
        assertEquals("3", groupVersion("web-asg"));
        InstanceRefresh latest = refreshes("web-asg").get(0);
        assertEquals(50, latest.preferences().minHealthyPercentage(), "the request's healthy percentage");
        assertEquals(Set.of(built.get(0).imageId()), imagesOfInstances("web-asg"));
        Set<String> kept = images("web-asg").stream().map(Image::imageId).collect(Collectors.toSet());
        assertEquals(3, kept.size());
        assertTrue(kept.contains(built.get(0).imageId()));
        imagesBefore.removeAll(kept);
        assertEquals(1, imagesBefore.size(), "one more old image removed");
        assertTrue(buildInstancesAlive().isEmpty());
        assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty());
    }

    @Test
    @Order(3)
    void a_transient_error_that_outlasts_redelivery_is_cleaned_up_on_the_last_delivery_instead_of_leaking_the_instance()
            throws Exception {
        Map<String, String> versionsBefore =
                Map.of("web-asg", groupVersion("web-asg"), "mixed-asg", groupVersion("mixed-asg"));
        local.localAws()
                .control()
                .post(
                        "faults",
                        Map.of(
                                "rules",
                                List.of(Map.of("service", "ec2", "operation", "StopInstances", "errorRate", 1.0))));
        try {
            String request =
                    "{\"requestId\":\"chg-ami-2\",\"env\":\"Dev\",\"include_asg\":\"Yes\",\"refresh_asg_instances\":\"Yes\","
                            + "\"accounts\":[\"111111111111\"],\"regions\":[\"us-east-1\"],\"reason\":\"CVE-2026-4243\"}";
            Path file = Files.writeString(Files.createTempFile("emergency", ".json"), request);
            assertEquals(
                    0,
                    InProcessCli.run(local, "emergency", "start", file.toString(), "--as", "oncall-requester")
                            .exit());
            await().atMost(Duration.ofSeconds(240))
                    .until(() -> ledger.get(RunKeys.pk("chg-ami-2"), RunKeys.RUN)
                            .map(r -> r.get("status").s())
                            .filter(st -> st.startsWith("Completed") || st.equals("Succeeded"))
                            .isPresent());
        } finally {
            local.localAws().control().delete("faults");
        }
        int maxReceives = local.config().queues().maxReceiveCount();
        for (String g : List.of("web-asg", "mixed-asg")) {
            Map<String, AttributeValue> build =
                    ledger.get(RunKeys.pk("chg-ami-2"), AmiBuild.sk(HERE, g)).orElseThrow();
            assertEquals("Failed", build.get("state").s(), g);
            assertEquals("Stop", build.get("failedStep").s(), g);
            assertTrue(
                    build.get("reason").s().startsWith("InternalError")
                            && build.get("reason")
                                    .s()
                                    .endsWith(
                                            "(still failing on delivery " + maxReceives + ", the last before the DLQ)"),
                    build.get("reason").s());
            assertEquals(versionsBefore.get(g), groupVersion(g), g + " stays on its version");
        }
        assertTrue(buildInstancesAlive().isEmpty(), "no temporary instance left: " + buildInstancesAlive());
        assertTrue(
                LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty(),
                "the last delivery cleaned up instead of dead-lettering");
    }

    // ------------------------------------------------------------------------------------------

    private String fire(Instant occurrence) {
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}");
        return "Default-"
                + occurrence.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
    }

    private Ec2Client ec2() {
        return local.aws().member(Ec2Client.class, HERE, "test");
    }

    private AutoScalingClient asg() {
        return local.aws().member(AutoScalingClient.class, HERE, "test");
    }

    private AutoScalingGroup group(String name) {
        return asg().describeAutoScalingGroups(r -> r.autoScalingGroupNames(name))
                .autoScalingGroups()
                .get(0);
    }

    private Map<String, String> tagsOf(String group) {
        return group(group).tags().stream().collect(Collectors.toMap(t -> t.key(), t -> t.value()));
    }

    private String groupVersion(String name) {
        AutoScalingGroup g = group(name);
        return g.mixedInstancesPolicy() != null
                ? g.mixedInstancesPolicy()
                        .launchTemplate()
                        .launchTemplateSpecification()
                        .version()
                : g.launchTemplate().version();
    }

    private List<LaunchTemplateVersion> versions(String group) {
        return ec2()
                .describeLaunchTemplateVersions(r -> r.launchTemplateName(group + "-lt"))
                .launchTemplateVersions()
                .stream()
                .sorted(Comparator.comparing(LaunchTemplateVersion::versionNumber))
                .toList();
    }

    private List<InstanceRefresh> refreshes(String group) {
        return asg().describeInstanceRefreshes(r -> r.autoScalingGroupName(group))
                .instanceRefreshes();
    }

    private List<Image> images(String group) {
        return ec2().describeImages(r -> r.owners("self")
                        .filters(Filter.builder()
                                .name("tag:" + AmiNames.GROUP_TAG)
                                .values(group)
                                .build()))
                .images();
    }

    private Set<String> imagesOfInstances(String group) {
        List<String> ids =
                group(group).instances().stream().map(i -> i.instanceId()).toList();
        return ec2().describeInstances(r -> r.instanceIds(ids)).reservations().stream()
                .flatMap(r -> r.instances().stream())
                .map(Instance::imageId)
                .collect(Collectors.toSet());
    }

    private List<String> buildInstancesAlive() {
        return ec2()
                .describeInstances(r -> r.filters(Filter.builder()
                        .name("tag-key")
                        .values(AmiNames.BUILD_TAG)
                        .build()))
                .reservations()
                .stream()
                .flatMap(r -> r.instances().stream())
                .filter(i -> !i.state().nameAsString().equals("terminated"))
                .map(i -> i.instanceId() + " " + i.state().nameAsString())
                .toList();
    }

    private String state(String runId, String group) {
        return ledger.get(RunKeys.pk(runId), AmiBuild.sk(HERE, group))
                .map(i -> i.get("state").s())
                .orElse("(none)");
    }

    private static String tag(Image image, String key) {
        return image.tags().stream()
                .filter(t -> t.key().equals(key))
                .map(t -> t.value())
                .findFirst()
                .orElse("");
    }

    private static Tag tag(String key, String value) {
        return Tag.builder().key(key).value(value).build();
    }
}
