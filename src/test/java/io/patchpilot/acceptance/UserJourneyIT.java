package io.patchpilot.acceptance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.config.model.ComplianceType;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.TagDescription;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.Command;
import software.amazon.awssdk.services.ssm.model.InstanceInformation;

/**
 * A platform team's first day, as one journey (./mvnw -Pacceptance verify): the stacks deployed from
 * deploy/cloudformation/, an untagged instance launched and tagged through AWS Config, the Default
 * window's next occurrence patching each window-tagged instance once, an emergency request approved
 * and run, and a report published (CSV in S3, mail). Local mode by default; a sandbox account with
 * -Dpatchpilot.acceptance.account=ACCOUNT and AWS credentials (deploy/README.md, "Acceptance suite").
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UserJourneyIT {
    private static final String DEFAULT_WINDOW = "Default_maintenance_window";
    private final String runTag = "acceptance-" + Instant.now().getEpochSecond();
    private AcceptanceTarget target;
    private String instance;

    @BeforeAll
    void start() throws Exception {
        String account = System.getProperty("patchpilot.acceptance.account", "");
        target = account.isBlank() ? new LocalTarget() : AwsSandboxTarget.open(account, runTag);
        System.out.println("acceptance: against " + target.describe() + " (" + runTag + ")");
    }

    @AfterAll
    void stop() {
        if (target != null) target.close();
    }

    @Test
    @Order(1)
    void the_hub_stack_and_every_member_stack_are_deployed_from_the_templates() {
        CloudFormationClient cfn = target.aws().hub(CloudFormationClient.class);
        assertEquals(
                StackStatus.CREATE_COMPLETE,
                cfn.describeStacks(r -> r.stackName(target.hubStack()))
                        .stacks()
                        .get(0)
                        .stackStatus());
        assertEquals(List.of(), target.memberStacksNotComplete(), "member stacks not complete");
    }

    @Test
    @Order(2)
    void an_untagged_instance_is_tagged_by_itself_and_becomes_compliant() {
        instance = target.launchUntaggedInstance(runTag);
        Ec2Client ec2 = target.aws().member(Ec2Client.class, target.member(), "acceptance");
        await().atMost(target.patience())
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(
                        Map.of("environment", "Default", "maintenance_window", DEFAULT_WINDOW, "PatchGroup", "Default"),
                        patchTags(ec2, instance)));
        ConfigClient config = target.aws().member(ConfigClient.class, target.member(), "acceptance");
        await().atMost(target.patience())
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(
                        List.of(ComplianceType.COMPLIANT),
                        config
                                .getComplianceDetailsByConfigRule(r -> r.configRuleName("patch_tags"))
                                .evaluationResults()
                                .stream()
                                .filter(e -> e.evaluationResultIdentifier()
                                        .evaluationResultQualifier()
                                        .resourceId()
                                        .equals(instance))
                                .map(e -> e.complianceType())
                                .toList()));
    }

    @Test
    @Order(3)
    void the_default_windows_next_occurrence_patches_each_window_tagged_instance_once() {
        Instant next = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow();
        String runId =
                "Default-" + next.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        target.fireDefaultWindow(next);
        awaitRunEnded(runId);

        Map<String, Integer> commands = commandsPerInstance(runId);
        commands.forEach((id, n) -> assertEquals(1, n, id + ": commands of run " + runId));
        Set<String> expected = windowTaggedManagedInstances(DEFAULT_WINDOW);
        assertTrue(expected.contains(instance), "the journey's instance is in the Default window");
        Set<String> missed = new HashSet<>(expected);
        missed.removeAll(commands.keySet());
        assertEquals(Set.of(), missed, "window-tagged running managed instances without AWS-RunPatchBaseline");
    }

    @Test
    @Order(4)
    void an_emergency_request_is_approved_and_run_to_its_end() {
        String requestId = "chg-" + runTag;
        target.requestAndApproveEmergency(
                "{\"requestId\":\"" + requestId + "\",\"env\":\"Default\",\"patching_operation\":\"Scan\","
                        + "\"reason\":\"acceptance suite\"}",
                requestId);
        awaitRunEnded(requestId);
        Map<String, Integer> commands = commandsPerInstance(requestId);
        assertFalse(commands.isEmpty(), "the emergency run sent commands");
        commands.forEach((id, n) -> assertEquals(1, n, id + ": commands of run " + requestId));
        assertTrue(commands.containsKey(instance), "the journey's instance (environment Default) was patched");
    }

    @Test
    @Order(5)
    void a_report_is_published_to_s3_and_mailed_with_its_csvs() throws Exception {
        int before = target.mail().getReceivedMessages().length;
        target.runReport();
        MimeMessage team = await().atMost(target.patience())
                .until(
                        () -> {
                            MimeMessage[] all = target.mail().getReceivedMessages();
                            for (int i = before; i < all.length; i++)
                                if (all[i].getSubject().contains("managed instances compliant")) return all[i];
                            return null;
                        },
                        m -> m != null);
        List<String> attached = new ArrayList<>();
        Multipart parts = (Multipart) team.getContent();
        for (int i = 0; i < parts.getCount(); i++) {
            if (Part.ATTACHMENT.equalsIgnoreCase(parts.getBodyPart(i).getDisposition()))
                attached.add(parts.getBodyPart(i).getFileName());
        }
        assertTrue(attached.contains("compliance_by_account_region.csv"), attached.toString());
        String csv = target.aws()
                .hub(S3Client.class)
                .getObjectAsBytes(r -> r.bucket(target.config().buckets().reports())
                        .key("reports/latest/compliance_by_account_region.csv"))
                .asUtf8String();
        assertTrue(csv.lines().count() > 1, "a header and rows: " + csv);
    }

    private void awaitRunEnded(String runId) {
        await().atMost(target.patience().multipliedBy(2))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> target.ledger()
                        .get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                        .isPresent());
    }

    /** Instance id → the run's AWS-RunPatchBaseline commands naming it, in every member account-region. */
    private Map<String, Integer> commandsPerInstance(String runId) {
        Map<String, Integer> out = new HashMap<>();
        for (AccountRegion t : target.accountRegions()) {
            for (Command c : target.aws()
                    .member(SsmClient.class, t, "acceptance")
                    .listCommandsPaginator(r -> r.maxResults(50))
                    .commands()) {
                if (c.comment() != null
                        && c.comment().startsWith("patchpilot " + runId + " ")
                        && c.documentName().startsWith("AWS-RunPatchBaseline"))
                    c.instanceIds().forEach(id -> out.merge(id, 1, Integer::sum));
            }
        }
        return out;
    }

    /** Running, SSM-managed instances tagged with the window, outside AutoScaling groups (those are refreshed). */
    private Set<String> windowTaggedManagedInstances(String window) {
        Set<String> out = new HashSet<>();
        for (AccountRegion t : target.accountRegions()) {
            Set<String> managed = new HashSet<>();
            target.aws()
                    .member(SsmClient.class, t, "acceptance")
                    .describeInstanceInformationPaginator(r -> r.maxResults(50))
                    .instanceInformationList()
                    .forEach((InstanceInformation i) -> managed.add(i.instanceId()));
            for (Instance i : target
                    .aws()
                    .member(Ec2Client.class, t, "acceptance")
                    .describeInstancesPaginator(
                            r -> r.filters(f -> f.name("tag:maintenance_window").values(window)))
                    .reservations()
                    .stream()
                    .flatMap(r -> r.instances().stream())
                    .toList()) {
                boolean inGroup = i.tags().stream().anyMatch(g -> g.key().equals("aws:autoscaling:groupName"));
                if (i.state().name() == InstanceStateName.RUNNING && !inGroup && managed.contains(i.instanceId()))
                    out.add(i.instanceId());
            }
        }
        return out;
    }

    private static Map<String, String> patchTags(Ec2Client ec2, String instanceId) {
        Map<String, String> out = new HashMap<>();
        for (TagDescription t : ec2.describeTags(
                        r -> r.filters(f -> f.name("resource-id").values(instanceId)))
                .tags()) {
            if (Set.of("environment", "maintenance_window", "PatchGroup").contains(t.key()))
                out.put(t.key(), t.value());
        }
        return out;
    }
}
