package io.patchpilot.windows;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.bench.GeneratedFleet;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import jakarta.mail.MessagingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** Windows as the central team manages them with the CLI, against local mode. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WindowsIT {
    private LocalMode local;

    @TempDir
    Path dir;

    record Cli(int exit, String out, String err) {}

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    private Cli cli(String... args) {
        InProcessCli.Result r = InProcessCli.run(local, args);
        return new Cli(r.exit(), r.out(), r.err());
    }

    @Test
    void the_default_window_exists_from_the_first_start() {
        Cli r = cli("window", "list");
        assertEquals(0, r.exit(), r.err());
        assertTrue(
                r.out().contains("Default_maintenance_window")
                        && r.out().contains("every FRIDAY 05:00 UTC for 6 h (cutoff 1 h)"),
                r.out());
        assertTrue(
                r.out()
                        .lines()
                        .anyMatch(l -> l.startsWith("Default_maintenance_window") && l.endsWith("declared by service")),
                r.out());
        assertEquals(
                "cron(0 5 ? * FRI *)",
                rules().describeRule(d -> d.name("patchpilot-window-org-default"))
                        .scheduleExpression());
    }

    private EventBridgeClient rules() {
        return local.aws().hub(EventBridgeClient.class);
    }

    @Test
    void the_default_windows_rule_firing_starts_a_patch_run() {
        Instant next = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow();
        local.localAws()
                .control()
                .post(
                        "events/fire",
                        Map.of(
                                "account",
                                "123456789012",
                                "region",
                                "us-east-1",
                                "rule",
                                "patchpilot-window-org-default",
                                "time",
                                next.toString()));
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        String runId =
                "Default-" + next.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ledger.get(RunKeys.pk(runId), "RUN").isPresent());
    }

    @Test
    void an_account_window_is_created_once_applies_to_tagging_and_can_be_deleted() throws Exception {
        Path file = dir.resolve("test.json");
        Files.writeString(
                file,
                "{\"Environment\":\"Test\",\"PatchingWindowWeekday\":\"Sunday\",\"PatchingWindowStartTime\":\"02\",\"PatchingWindowDuration\":3}");
        Cli created = cli("window", "create", file.toString(), "--account", "111111111111");
        assertEquals(0, created.exit(), created.err());
        assertTrue(
                created.out().contains("Test_maintenance_window")
                        && created.out().contains("111111111111"),
                created.out());

        Cli again = cli("window", "create", file.toString(), "--account", "111111111111");
        assertEquals(3, again.exit());
        assertEquals(
                "patchpilot: Test_maintenance_window already exists for 111111111111; use 'window update'",
                again.err().strip());
        await().atMost(Duration.ofSeconds(20))
                .until(() -> rules().listRules(l -> l.namePrefix("patchpilot-window-111111111111-test"))
                                .rules()
                                .size()
                        == 1);
        assertEquals(
                "cron(0 2 ? * SUN *)",
                rules().describeRule(d -> d.name("patchpilot-window-111111111111-test"))
                        .scheduleExpression());
        var target = rules().listTargetsByRule(l -> l.rule("patchpilot-window-111111111111-test"))
                .targets()
                .get(0);
        assertTrue(target.arn().endsWith(":patchpilot-schedules"), target.arn());
        assertEquals(
                "{\"type\":\"window-fire\",\"window\":\"Test_maintenance_window\",\"account\":\"111111111111\",\"time\":<time>}",
                target.inputTransformer().inputTemplate());
        Cli unchanged = cli("window", "update", file.toString(), "--account", "111111111111");
        assertTrue(unchanged.out().startsWith("unchanged"), unchanged.out());

        Cli next = cli("window", "next", "Test", "--account", "111111111111", "--count", "2");
        assertEquals(3, next.out().lines().count(), next.out());
        assertTrue(
                next.out().contains("T02:00:00Z  until ") && next.out().contains("no new command after"), next.out());

        // tagging now gives 111111111111's Test instances the Test window
        Instance testApi = local.aws()
                .member(Ec2Client.class, new AccountRegion("111111111111", "us-east-1"), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values("test-api")))
                .reservations()
                .get(0)
                .instances()
                .get(0);
        String body = GeneratedFleet.configEvent("111111111111", "us-east-1", testApi.instanceId());
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-config-events"),
                "--message-body",
                body);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> local
                        .aws()
                        .member(Ec2Client.class, new AccountRegion("111111111111", "us-east-1"), "test")
                        .describeInstances(r -> r.instanceIds(testApi.instanceId()))
                        .reservations()
                        .get(0)
                        .instances()
                        .get(0)
                        .tags()
                        .stream()
                        .anyMatch(t -> t.key().equals("maintenance_window")
                                && t.value().equals("Test_maintenance_window")));

        assertEquals(
                0, cli("window", "delete", "Test", "--account", "111111111111").exit());
        await().atMost(Duration.ofSeconds(20))
                .until(() -> rules().listRules(l -> l.namePrefix("patchpilot-window-111111111111-test"))
                        .rules()
                        .isEmpty());
        Cli gone = cli("window", "show", "Test", "--account", "111111111111");
        assertEquals(3, gone.exit());
        Cli refuse = cli("window", "delete", "Default");
        assertEquals(
                "patchpilot: Default_maintenance_window is the organization-wide fallback and cannot be deleted",
                refuse.err().strip());
    }

    @Test
    void an_invalid_window_is_one_line_listing_every_problem() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"Environment\":\"Staging\",\"PatchingFrequency\":3,\"Colour\":\"red\"}");
        Cli r = cli("window", "create", file.toString(), "--account", "111111111111");
        assertEquals(3, r.exit());
        assertEquals(
                "patchpilot: " + file
                        + ": Colour: unknown field; Environment: 'Staging' is not one of Dev, Test, Prod; "
                        + "PatchingFrequency: 3 is outside 7-42; PatchingFrequency: 3 is not a multiple of 7 (7, 14, 21, 28, 35, 42)",
                r.err().strip());
    }

    private void requestFrom(String account, String detail) {
        Map<String, String> creds = AwsCli.assumeRole(local.localAws().endpoint(), account);
        String entries = "[{\"Source\":\"patchpilot.self-service\",\"DetailType\":\"Window Request\",\"Detail\":" + "\""
                + detail.replace("\"", "\\\"") + "\"}]";
        assertEquals(
                0,
                AwsCli.json(local.localAws().endpoint(), creds, "events", "put-events", "--entries", entries)
                        .path("FailedEntryCount")
                        .asInt());
    }

    @Test
    void a_self_service_request_creates_the_owners_window_its_rule_and_retags_its_resources() {
        requestFrom(
                "111111111111",
                "{\"action\":\"create\",\"window\":{\"Environment\":\"Dev\",\"PatchingWindowWeekday\":\"Saturday\",\"PatchingWindowStartTime\":\"22\"}}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> local
                        .aws()
                        .member(Ec2Client.class, new AccountRegion("111111111111", "us-east-1"), "test")
                        .describeInstances(
                                r -> r.filters(f -> f.name("tag:Name").values("dev-web")))
                        .reservations()
                        .get(0)
                        .instances()
                        .get(0)
                        .tags()
                        .stream()
                        .anyMatch(t -> t.key().equals("maintenance_window")
                                && t.value().equals("Dev_maintenance_window")));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> !rules().listRules(l -> l.namePrefix("patchpilot-window-111111111111-dev"))
                        .rules()
                        .isEmpty());
        assertEquals(
                "cron(0 22 ? * SAT *)",
                rules().describeRule(d -> d.name("patchpilot-window-111111111111-dev"))
                        .scheduleExpression());
        InProcessCli.Result show = InProcessCli.run(local, "window", "show", "Dev", "--account", "111111111111");
        assertTrue(show.out().contains("\"PatchingWindowWeekday\" : \"SATURDAY\""), show.out());
        assertTrue(show.out().contains("\"DeclaredBy\" : \"request\""), show.out());
        // the requester hears back at its configured contact
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Arrays.stream(local.mail().getReceivedMessages()).anyMatch(m -> {
                    try {
                        return m.getSubject().equals("[patchpilot] Dev_maintenance_window created in 111111111111")
                                && m.getAllRecipients()[0].toString().equals("dev-apps-owners@example.com");
                    } catch (MessagingException e) {
                        return false;
                    }
                }));
    }

    @Test
    void a_request_touching_another_accounts_window_is_refused_to_the_dlq_with_its_reason() {
        requestFrom(
                "111111111111",
                "{\"action\":\"create\",\"window\":{\"Environment\":\"Prod\",\"Account\":\"222222222222\"}}");
        List<Message> dead = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> dead.addAll(LocalFixture.drain(local, "patchpilot-self-service-dlq")));
        assertEquals(
                "window: Account: 222222222222 is not the requesting account 111111111111",
                dead.get(0).messageAttributes().get("patchpilot-error").stringValue());
        assertTrue(
                InProcessCli.run(local, "window", "show", "Prod", "--account", "222222222222")
                                .exit()
                        != 0,
                "nothing created for 222222222222");
    }
}
