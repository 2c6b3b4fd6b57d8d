package io.patchpilot.ami;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.Selection;
import io.patchpilot.windows.WindowDirectory;
import io.patchpilot.windows.WindowStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * A failure at each step of the pipeline in turn, the steps driven one by one against the local
 * AWS (no service: each step is called as the work route would call it, so the failure lands
 * exactly on the step under test). Every failure ends the group Failed with its reason and the
 * failing step, no temporary instance left, no image or snapshot of the build left, no new launch
 * template version, and the group on its previous version.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AmiFaultIT {
    private static final AccountRegion HERE = new AccountRegion("111111111111", "us-east-1");
    private static final String GROUP = "web-asg";
    private static final String DUP = "dup-asg";
    private static final String FLEET = """
            accounts:
              - id: "111111111111"
                name: ami-faults
                regions:
                  us-east-1:
                    autoScalingGroups:
                      - {name: web-asg, desired: 2, min: 1, max: 4, tags: {environment: Dev, suite: faults}}
                      - {name: dup-asg, desired: 2, min: 1, max: 4, tags: {environment: Dev, suite: redelivery}}
            """;

    private LocalMode local;
    private Ledger ledger;
    private PatchRuns runs;
    private AmiRefreshes refreshes;
    private AmiRefreshStep steps;
    private AmiRefreshStep stepsWithShortManagedWait;
    private AmiRefreshStep stepsWithShortRefreshWait;

    @BeforeAll
    void start() throws Exception {
        Path fleet = Files.writeString(Files.createTempDirectory("ami-faults").resolve("fleet.yaml"), FLEET);
        local = LocalMode.startWithoutService(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                fleet,
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", "0.2", "--refresh-delay", "0.2", "--config-evaluation", "off"),
                Map.of(
                        "patchpilot.notify.outbox",
                        Files.createTempDirectory("outbox").toString())));
        Clock clock = Clock.systemUTC();
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
        QueueSender work = new QueueSender(local.aws(), local.config().queues().work());
        runs = new PatchRuns(
                ledger,
                new WindowStore(ledger, new WindowDirectory(ledger, clock), clock),
                new Organization(local.aws(), clock),
                work,
                local.config().regions(),
                local.config().eventBus(),
                clock);
        AmiSettings settings = settings(Duration.ofMinutes(15));
        AmiRefreshStep.Continuation ignore = (body, delay) -> {}; // the test calls each step itself
        steps = new AmiRefreshStep(ledger, local.aws(), settings, runs::targetDone, ignore, clock);
        stepsWithShortManagedWait = new AmiRefreshStep(
                ledger, local.aws(), settings(Duration.ofMillis(1)), runs::targetDone, ignore, clock);
        AmiSettings shortRefresh = settings(Duration.ofMinutes(15));
        stepsWithShortRefreshWait = new AmiRefreshStep(
                ledger,
                local.aws(),
                new AmiSettings(
                        3,
                        Optional.empty(),
                        shortRefresh.instanceProfile(),
                        1,
                        shortRefresh.managedWait(),
                        shortRefresh.patchWait(),
                        shortRefresh.imageWait(),
                        Duration.ofMillis(1),
                        shortRefresh.scanWait(),
                        5,
                        shortRefresh.logsBucket(),
                        "PatchGroup"),
                runs::targetDone,
                ignore,
                clock);
        refreshes = new AmiRefreshes(
                local.aws(),
                ledger,
                local.config().ledgerTable(),
                new GroupClassifier(new TagPolicy(List.of("Dev", "Test", "Prod"), "PatchGroup"), "PatchGroup"),
                ignore,
                clock);
    }

    private AmiSettings settings(Duration managedWait) {
        return new AmiSettings(
                3,
                Optional.empty(),
                Optional.of("PatchpilotManagedInstance"),
                1,
                managedWait,
                Duration.ofMinutes(10),
                Duration.ofMinutes(10),
                Duration.ofMinutes(10),
                Duration.ofMinutes(10),
                5,
                local.config().buckets().logs(),
                "PatchGroup");
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    @AfterEach
    void clearFaults() {
        local.localAws().control().delete("faults");
        Map<String, Object> reset = new HashMap<>(Map.of("refreshFails", false));
        reset.put("refreshDelay", null);
        local.localAws()
                .control()
                .post("sim", Map.of("groups", Map.of(HERE.account() + "/" + HERE.region() + "/" + GROUP, reset)));
    }

    /** How a failure is made to happen at the step: a permanent AWS error once, or what the simulator makes fail. */
    enum Fault {
        ERROR,
        PATCH_FAILS,
        IMAGE_FAILS,
        REFRESH_FAILS,
        NEVER_MANAGED,
        REFRESH_TOO_SLOW
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(
                        Step.RESOLVE,
                        Fault.ERROR,
                        "ec2",
                        "DescribeLaunchTemplateVersions",
                        "InvalidLaunchTemplateId.Malformed",
                        true),
                Arguments.of(Step.LAUNCH, Fault.ERROR, "ec2", "RunInstances", "InvalidParameterValue", true),
                Arguments.of(Step.WAIT_MANAGED, Fault.NEVER_MANAGED, null, null, "gave up after", true),
                Arguments.of(Step.INSTALL, Fault.ERROR, "ssm", "SendCommand", "InvalidDocument", true),
                Arguments.of(Step.WAIT_INSTALL, Fault.PATCH_FAILS, null, null, "ended Failed", true),
                Arguments.of(Step.STOP, Fault.ERROR, "ec2", "StopInstances", "UnsupportedOperation", true),
                Arguments.of(Step.WAIT_STOPPED, Fault.ERROR, "ec2", "DescribeInstances", "InvalidParameterValue", true),
                Arguments.of(Step.IMAGE, Fault.ERROR, "ec2", "CreateImage", "InvalidParameterValue", true),
                Arguments.of(Step.WAIT_IMAGE, Fault.IMAGE_FAILS, null, null, "is failed", true),
                Arguments.of(Step.TERMINATE, Fault.ERROR, "ec2", "TerminateInstances", "OperationNotPermitted", true),
                Arguments.of(
                        Step.VERSION, Fault.ERROR, "ec2", "CreateLaunchTemplateVersion", "VersionLimitExceeded", true),
                Arguments.of(Step.REFRESH, Fault.ERROR, "autoscaling", "StartInstanceRefresh", "ValidationError", true),
                Arguments.of(Step.WAIT_REFRESH, Fault.REFRESH_FAILS, null, null, "ended RollbackSuccessful", true),
                Arguments.of(Step.WAIT_REFRESH, Fault.REFRESH_TOO_SLOW, null, null, "gave up after", true),
                Arguments.of(
                        Step.PUBLISH, Fault.ERROR, "autoscaling", "UpdateAutoScalingGroup", "ValidationError", false));
    }

    @ParameterizedTest(name = "[{index}] failure at {0}")
    @MethodSource("failures")
    void a_failure_at_each_step_leaves_no_instance_no_image_no_version_and_the_group_on_its_previous_version(
            Step at, Fault fault, String service, String operation, String expected, boolean refresh) {
        String runId = "fault-" + at.label() + "-" + fault;
        start(runId, GROUP, refresh);
        AmiRefreshStep driver = fault == Fault.NEVER_MANAGED ? stepsWithShortManagedWait : steps;
        Step before = switch (fault) {
            case PATCH_FAILS -> Step.INSTALL;
            case IMAGE_FAILS -> Step.IMAGE;
            case REFRESH_FAILS, REFRESH_TOO_SLOW -> Step.REFRESH;
            default -> at;
        };
        driveUntil(runId, GROUP, steps, s -> s == before);
        AmiBuild b = build(runId, GROUP);
        switch (fault) {
            case ERROR ->
                local.localAws()
                        .control()
                        .post(
                                "faults",
                                Map.of(
                                        "rules",
                                        List.of(Map.of(
                                                "service",
                                                service,
                                                "operation",
                                                operation,
                                                "errorRate",
                                                1.0,
                                                "errorCode",
                                                expected,
                                                "status",
                                                400,
                                                "times",
                                                1))));
            case PATCH_FAILS -> sim("instances", b.get(AmiBuild.INSTANCE), Map.of("failPatching", true));
            case IMAGE_FAILS -> sim("instances", b.get(AmiBuild.INSTANCE), Map.of("imageFails", true));
            case REFRESH_FAILS ->
                sim("groups", HERE.account() + "/" + HERE.region() + "/" + GROUP, Map.of("refreshFails", true));
            case NEVER_MANAGED -> sim("instances", b.get(AmiBuild.INSTANCE), Map.of("ssmManaged", false));
            case REFRESH_TOO_SLOW ->
                sim("groups", HERE.account() + "/" + HERE.region() + "/" + GROUP, Map.of("refreshDelay", 6));
        }
        if (fault == Fault.REFRESH_TOO_SLOW) { // the refresh outlasts its wait: rolled back before the cleanup
            driveUntil(runId, GROUP, steps, s -> s == Step.WAIT_REFRESH);
            driveUntil(runId, GROUP, stepsWithShortRefreshWait, s -> s == Step.ROLLBACK_REFRESH);
        }
        driveUntil(runId, GROUP, driver, Step::ended);

        AmiBuild end = build(runId, GROUP);
        assertEquals("Failed", end.get(AmiBuild.STATE), end.get(AmiBuild.REASON));
        assertEquals(at.label(), end.get(AmiBuild.FAILED_STEP));
        assertTrue(end.get(AmiBuild.REASON).contains(expected), end.get(AmiBuild.REASON));
        assertEquals("", end.get(AmiBuild.CLEANUP), "cleanup went through");
        assertLeftNothing(runId, GROUP, end);
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
        assertEquals("CompletedWithFailures", run.get("status").s(), "the group's end completes the run");
        assertTrue(
                run.get("counts").s().contains("\"asgsFailed\":1"),
                run.get("counts").s());
    }

    @Test
    void a_transient_error_leaves_the_step_for_redelivery_until_the_last_delivery_then_cleans_up() {
        String runId = "fault-transient";
        start(runId, GROUP, true);
        driveUntil(runId, GROUP, steps, s -> s == Step.IMAGE);
        local.localAws()
                .control()
                .post(
                        "faults",
                        Map.of(
                                "rules",
                                List.of(Map.of("service", "ec2", "operation", "CreateImage", "errorRate", 1.0))));
        String message = AmiRefreshStep.message(runId, HERE, GROUP);
        assertThrows(
                RuntimeException.class,
                () -> steps.step(message, Map.of("ApproximateReceiveCount", "1")),
                "SQS keeps the message");
        assertEquals(Step.IMAGE, build(runId, GROUP).step());
        steps.step(message, Map.of("ApproximateReceiveCount", "5"));
        AmiBuild failing = build(runId, GROUP);
        assertEquals(Step.DELETE_IMAGE, failing.step());
        assertTrue(failing.get(AmiBuild.REASON).startsWith("InternalError"), failing.get(AmiBuild.REASON));
        assertTrue(
                failing.get(AmiBuild.REASON).endsWith("(still failing on delivery 5, the last before the DLQ)"),
                failing.get(AmiBuild.REASON));
        local.localAws().control().delete("faults");
        driveUntil(runId, GROUP, steps, Step::ended);
        assertEquals("Failed", build(runId, GROUP).get(AmiBuild.STATE));
        assertLeftNothing(runId, GROUP, build(runId, GROUP));
    }

    @Test
    void a_redelivered_step_creates_nothing_twice() {
        String runId = "redelivered";
        int versionsBefore = versions(DUP);
        start(runId, DUP, true);
        // every action runs twice, as when SQS delivers a step again before the first delivery recorded its outcome
        AmiActions actions = new AmiActions(local.aws(), settings(Duration.ofMinutes(15)));
        for (Step s = build(runId, DUP).step();
                !s.ended();
                s = build(runId, DUP).step()) {
            if (s.kind() == AmiPipeline.Kind.ACTION && s != Step.PRUNE) actions.perform(s, build(runId, DUP));
            Step current = s;
            driveUntil(runId, DUP, steps, x -> x != current);
        }
        AmiBuild end = build(runId, DUP);
        assertEquals("Refreshed", end.get(AmiBuild.STATE), end.get(AmiBuild.REASON));
        Ec2Client ec2 = local.aws().member(Ec2Client.class, HERE, "test");
        assertEquals(
                1,
                ec2
                        .describeInstances(r -> r.filters(Filter.builder()
                                .name("tag:" + AmiNames.BUILD_TAG)
                                .values(end.get(AmiBuild.TOKEN))
                                .build()))
                        .reservations()
                        .stream()
                        .mapToLong(r -> r.instances().size())
                        .sum(),
                "one temporary instance");
        assertEquals(
                1,
                ec2.describeImages(r -> r.owners("self")
                                .filters(Filter.builder()
                                        .name("tag:" + AmiNames.RUN_TAG)
                                        .values(runId)
                                        .build()))
                        .images()
                        .size(),
                "one image");
        assertEquals(versionsBefore + 1, versions(DUP), "one new version");
        assertEquals(end.get(AmiBuild.NEW_VERSION), groupVersion(DUP));
        AutoScalingClient asg = local.aws().member(AutoScalingClient.class, HERE, "test");
        assertEquals(
                1,
                asg.describeInstanceRefreshes(r -> r.autoScalingGroupName(DUP))
                        .instanceRefreshes()
                        .size(),
                "one instance refresh");
        assertEquals(
                1,
                local
                        .aws()
                        .member(SsmClient.class, HERE, "test")
                        .listCommands(r -> r.maxResults(50))
                        .commands()
                        .stream()
                        .filter(c -> AmiNames.comment(end.get(AmiBuild.TOKEN), "install")
                                .equals(c.comment()))
                        .count(),
                "one patch command");
    }

    // ------------------------------------------------------------------------------------------

    /** A run of one group (selected by its suite tag): its build registered and not started. */
    private void start(String runId, String group, boolean refresh) {
        MaintenanceWindow w = window(refresh);
        runs.createUnscheduled(runId, "test", w, List.of(), Instant.now().plus(Duration.ofHours(1)), Map.of());
        refreshes.register(runId, HERE, w, new Selection("suite", group.equals(GROUP) ? "faults" : "redelivery"), "");
        assertEquals(Step.RESOLVE, build(runId, group).step());
    }

    private static MaintenanceWindow window(boolean refresh) {
        try {
            ObjectNode json = WindowStore.json().valueToTree(MaintenanceWindow.defaultWindow(null));
            json.put("RefreshASGInstances", refresh ? "Yes" : "No");
            return WindowStore.json().treeToValue(json, MaintenanceWindow.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Calls the group's step (as the work route would) until its state satisfies {@code until}. */
    private void driveUntil(String runId, String group, AmiRefreshStep driver, Predicate<Step> until) {
        String message = AmiRefreshStep.message(runId, HERE, group);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    if (until.test(build(runId, group).step())) return true;
                    driver.step(message, null);
                    return until.test(build(runId, group).step());
                });
    }

    private AmiBuild build(String runId, String group) {
        return steps.build(runId, HERE, group).orElseThrow();
    }

    private void sim(String kind, String key, Map<String, Object> facts) {
        Map<String, Object> body = new HashMap<>();
        body.put(kind, Map.of(key, facts));
        local.localAws().control().post("sim", body);
    }

    private void assertLeftNothing(String runId, String group, AmiBuild b) {
        Ec2Client ec2 = local.aws().member(Ec2Client.class, HERE, "test");
        List<String> alive = ec2
                .describeInstances(r -> r.filters(Filter.builder()
                        .name("tag:" + AmiNames.BUILD_TAG)
                        .values(b.get(AmiBuild.TOKEN))
                        .build()))
                .reservations()
                .stream()
                .flatMap(r -> r.instances().stream())
                .filter(i -> !i.state().nameAsString().equals("terminated"))
                .map(i -> i.instanceId() + " " + i.state().nameAsString())
                .toList();
        assertEquals(List.of(), alive, "no temporary instance left");
        assertEquals(
                0,
                ec2.describeImages(r -> r.owners("self")
                                .filters(Filter.builder()
                                        .name("name")
                                        .values(AmiNames.imageName(group, runId))
                                        .build()))
                        .images()
                        .size(),
                "no image of the build");
        assertEquals(
                0,
                ec2.describeSnapshots(r -> r.ownerIds("self")
                                .filters(Filter.builder()
                                        .name("tag:" + AmiNames.RUN_TAG)
                                        .values(runId)
                                        .build()))
                        .snapshots()
                        .size(),
                "no snapshot of the build");
        assertEquals(1, versions(group), "no new launch template version");
        assertEquals("1", groupVersion(group), "the group on its previous version");
    }

    private int versions(String group) {
        return local.aws()
                .member(Ec2Client.class, HERE, "test")
                .describeLaunchTemplateVersions(r -> r.launchTemplateName(group + "-lt"))
                .launchTemplateVersions()
                .size();
    }

    private String groupVersion(String group) {
        AutoScalingGroup g = local.aws()
                .member(AutoScalingClient.class, HERE, "test")
                .describeAutoScalingGroups(r -> r.autoScalingGroupNames(group))
                .autoScalingGroups()
                .get(0);
        return g.launchTemplate().version();
    }
}
