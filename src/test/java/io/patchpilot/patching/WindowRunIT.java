package io.patchpilot.patching;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.metrics.Metrics;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Running a window now and following long work with the CLI, and the rule that a valid message
 * that does nothing says why (in the DLQ with its reason, or counted), one queue at a time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WindowRunIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private LocalMode local;
    private Ledger ledger;
    private String manualRun;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    private static double count(String name, String... tags) {
        Counter c = Metrics.registry().find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    private void send(String queue, String body) {
        send(local.aws().hub(SqsClient.class), queue, body);
    }

    private void send(SqsClient sqs, String queue, String body) {
        String url = LocalFixture.queueUrl(local, queue);
        sqs.sendMessage(r -> r.queueUrl(url).messageBody(body));
    }

    /** The DLQ's dead letters as {@code dlq list} prints them, once the message has arrived there. */
    private String deadLetters(String queue, String expected) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> InProcessCli.run(local, "dlq", "list", queue).out().contains(expected));
        return InProcessCli.run(local, "dlq", "list", queue).out();
    }

    @Test
    @Order(1)
    void tags_reconcile_follow_prints_its_id_and_ends_when_every_account_region_is_done() {
        InProcessCli.Result r = InProcessCli.run(local, "tags", "reconcile", "--follow");
        assertEquals(0, r.exit(), r.out() + r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(
                lines.get(0).matches("reconcile reconcile-\\d{8}T\\d{6}Z-[0-9a-f]{8} queued on patchpilot-schedules"),
                r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("Done: (\\d+)/\\1 account-regions · 0 failed")), r.out());
        assertTrue(lines.get(lines.size() - 1).endsWith(" Done"), r.out());
    }

    @Test
    @Order(2)
    void window_run_follow_patches_the_default_windows_running_instances_and_exits_0() throws Exception {
        // the default fleet's prod-win-db is set up to fail its patching (a run with it ends
        // CompletedWithFailures, exit 1, as 'runs show --follow'); its owner exempts it here
        AccountRegion payments = new AccountRegion("222222222222", "us-east-1");
        Ec2Client ec2 = local.aws().member(Ec2Client.class, payments, "test");
        String winDb = ec2.describeInstances(
                        r -> r.filters(f -> f.name("tag:Name").values("prod-win-db")))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .instanceId();
        ec2.createTags(r -> r.resources(winDb).tags(t -> t.key("install_patch").value("no")));

        InProcessCli.Result r = InProcessCli.run(local, "window", "run", "Default_maintenance_window", "--follow");
        assertEquals(0, r.exit(), r.out() + r.err());
        String first = r.out().lines().findFirst().orElse("");
        assertTrue(first.matches("run Default-manual-\\d{8}T\\d{4}Z"), r.out());
        manualRun = first.substring("run ".length());
        assertTrue(
                r.out().lines().anyMatch(l -> l.matches("Succeeded: (\\d+)/\\1 account-regions and groups · .*")),
                r.out());

        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(manualRun), RunKeys.RUN).orElseThrow();
        assertEquals("Succeeded", run.get("status").s());
        assertEquals("manual", run.get("kind").s());
        assertFalse(run.get("requester").s().isBlank());
        Instant created = Instant.parse(run.get("createdAt").s());
        Instant lastStart = Instant.parse(run.get("lastStart").s());
        assertEquals(
                Duration.ofHours(5),
                Duration.between(Instant.parse(run.get("occurrence").s()), lastStart));
        assertTrue(Duration.between(created, lastStart).compareTo(Duration.ofHours(5)) <= 0);
        JsonNode counts = JSON.readTree(run.get("counts").s());
        assertTrue(counts.path("Success").asInt() > 0, counts.toString());
        assertEquals(0, counts.path("Failed").asInt(), counts.toString());

        // every instance the window patches got exactly one command of this run, the exempted one none
        Map<String, Integer> commands = LocalFixture.commandsPerInstance(
                local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), manualRun);
        assertEquals(counts.path("Success").asInt(), commands.size(), commands.toString());
        assertTrue(commands.values().stream().allMatch(n -> n == 1), commands.toString());
        assertFalse(commands.containsKey(winDb));
        // the run is in 'runs list' like any other
        assertTrue(InProcessCli.run(local, "runs", "list").out().contains(manualRun));
    }

    @Test
    @Order(3)
    void the_same_window_run_twice_in_a_minute_is_one_run() {
        Instant at = Instant.now().plus(Duration.ofMinutes(3)).truncatedTo(ChronoUnit.MINUTES);
        String body =
                "{\"type\":\"window-run\",\"window\":\"Default_maintenance_window\",\"requestedAt\":\"" + at + "\"}";
        double before = count("patchpilot.duplicates.suppressed", "kind", "window-run");
        send("patchpilot-schedules", body);
        send("patchpilot-schedules", body);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> count("patchpilot.duplicates.suppressed", "kind", "window-run") == before + 1);
        String runId = "Default-manual-"
                + at.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        assertEquals(
                1,
                ledger.partition(RunKeys.INDEX).stream()
                        .filter(i -> i.get("runId").s().equals(runId))
                        .count());
    }

    @Test
    @Order(4)
    void a_prod_window_whose_predecessor_has_not_run_says_so_and_runs_only_when_the_gate_is_skipped_with_a_reason()
            throws Exception {
        Path dir = Files.createTempDirectory("windows");
        Path test = Files.writeString(dir.resolve("test.json"), "{\"Environment\":\"Test\"}");
        Path prod = Files.writeString(
                dir.resolve("prod.json"), "{\"Environment\":\"Prod\",\"PredecessorWindow\":\"Test\",\"SoakHours\":24}");
        assertEquals(
                0,
                InProcessCli.run(local, "window", "create", test.toString(), "--account", "333333333333")
                        .exit());
        assertEquals(
                0,
                InProcessCli.run(local, "window", "create", prod.toString(), "--account", "333333333333")
                        .exit());

        InProcessCli.Result held =
                InProcessCli.run(local, "window", "run", "Prod", "--account", "333333333333", "--follow");
        assertEquals(1, held.exit(), held.out() + held.err());
        assertTrue(held.out().contains("Blocked: predecessor Test_maintenance_window has no run yet"), held.out());

        InProcessCli.Result usage =
                InProcessCli.run(local, "window", "run", "Prod", "--account", "333333333333", "--skip-gate");
        assertEquals(3, usage.exit());
        assertTrue(usage.err().contains("--skip-gate: needs --reason"), usage.err());

        InProcessCli.Result skipped = InProcessCli.run(
                local,
                "window",
                "run",
                "Prod",
                "--account",
                "333333333333",
                "--skip-gate",
                "--reason",
                "CVE-2026-4242 cannot wait for Test",
                "--follow");
        String runId = skipped.out().lines().findFirst().orElse("").substring("run ".length());
        assertTrue(runId.startsWith("Prod-333333333333-manual-"), skipped.out());
        assertTrue(skipped.out().contains("rollout gate skipped: CVE-2026-4242 cannot wait for Test"), skipped.out());
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
        assertTrue(List.of("Succeeded", "CompletedWithFailures")
                .contains(run.get("status").s()));
        assertEquals(
                "CVE-2026-4242 cannot wait for Test", run.get("gateSkipReason").s());
        assertEquals(run.get("requester").s(), run.get("gateSkippedBy").s());
        assertFalse(run.get("gateSkippedBy").s().isBlank());
    }

    @Test
    @Order(5)
    void schedules_a_window_fire_that_is_no_occurrence_is_a_dead_letter_with_window_schedule_time_and_next() {
        double before =
                count("patchpilot.messages.without.effect", "type", "window-fire", "reason", "not-an-occurrence");
        send(
                "patchpilot-schedules",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"2026-12-02T05:00:00Z\"}");
        String out = deadLetters("schedules", "2026-12-02T05:00:00Z");
        // the next occurrence is the stored window's (a new window's first opening is its anchor)
        assertTrue(
                out.lines()
                        .anyMatch(l -> l.matches(".*  time: 2026-12-02T05:00:00Z is not an occurrence of"
                                + " Default_maintenance_window \\(organization-wide, every FRIDAY 05:00 UTC for 6 h"
                                + " \\(cutoff 1 h\\)\\); next occurrence \\d{4}-\\d\\d-\\d\\dT05:00:00Z; to run it now:"
                                + " patchpilot window run Default_maintenance_window")),
                out);
        assertTrue(count("patchpilot.messages.without.effect", "type", "window-fire", "reason", "not-an-occurrence")
                >= before + 1);
    }

    @Test
    @Order(6)
    void schedules_a_window_run_naming_no_window_is_a_dead_letter_naming_the_field() {
        send("patchpilot-schedules", "{\"type\":\"window-run\",\"window\":\"Nope_maintenance_window\"}");
        send("patchpilot-schedules", "{\"type\":\"window-run\",\"windw\":\"Default_maintenance_window\"}");
        String out = deadLetters("schedules", "Nope_maintenance_window does not exist");
        assertTrue(
                out.contains("window: organization#Nope_maintenance_window does not exist")
                        || out.contains("window: ") && out.contains("Nope_maintenance_window does not exist"),
                out);
        out = deadLetters("schedules", "windw: unknown field");
        assertTrue(
                out.contains("windw: unknown field; window: '' is not a window name such as Dev_maintenance_window"),
                out);
    }

    @Test
    @Order(7)
    void self_service_a_repeated_request_changes_nothing_and_is_counted() {
        String request = "{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":\"Window Request\","
                + "\"source\":\"patchpilot.self-service\",\"account\":\"111111111111\",\"time\":\"2026-12-07T10:00:00Z\","
                + "\"region\":\"us-east-1\",\"resources\":[],\"detail\":{\"action\":\"create\","
                + "\"window\":{\"Environment\":\"Dev\",\"PatchingWindowWeekday\":\"Saturday\"}}}";
        double before = count("patchpilot.messages.without.effect", "type", "self-service", "reason", "unchanged");
        send("patchpilot-self-service", request);
        await().atMost(Duration.ofSeconds(30)).until(() -> LocalFixture.depth(local, "patchpilot-self-service") == 0);
        send("patchpilot-self-service", request);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> count("patchpilot.messages.without.effect", "type", "self-service", "reason", "unchanged")
                        == before + 1);
    }

    @Test
    @Order(8)
    void emergency_a_repeated_request_is_acknowledged_and_counted_not_run_again() {
        SqsClient requester = LocalFixture.sqsAs(local, "oncall-requester");
        String body = "{\"requestId\":\"chg-repeat\",\"env\":\"Dev\",\"accounts\":[\"111111111111\"],"
                + "\"regions\":[\"us-east-1\"],\"reason\":\"test\"}";
        send(requester, "patchpilot-emergency", body);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ledger.get(RunKeys.pk("chg-repeat"), RunKeys.RUN).isPresent());
        double before = count("patchpilot.duplicates.suppressed", "kind", "emergency-request");
        send(requester, "patchpilot-emergency", body);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> count("patchpilot.duplicates.suppressed", "kind", "emergency-request") == before + 1);
    }

    @Test
    @Order(9)
    void approvals_a_decision_for_a_run_not_waiting_for_one_is_a_dead_letter_with_its_reason() {
        send(
                LocalFixture.sqsAs(local, "oncall-approver"),
                "patchpilot-approvals",
                "{\"requestId\":\"" + manualRun + "\",\"decision\":\"approve\"}");
        String out = deadLetters("approvals", manualRun);
        assertTrue(out.contains("requestId: " + manualRun + " has no emergency run"), out);
    }

    @Test
    @Order(10)
    void work_a_repeated_step_of_a_finished_account_region_is_acknowledged_and_counted() {
        double before = count("patchpilot.duplicates.suppressed", "kind", "patch-target");
        send(
                "patchpilot-work",
                "{\"type\":\"patch-target\",\"runId\":\"" + manualRun
                        + "\",\"account\":\"111111111111\",\"region\":\"us-east-1\"}");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> count("patchpilot.duplicates.suppressed", "kind", "patch-target") >= before + 1);
        assertEquals(
                "Succeeded",
                ledger.get(RunKeys.pk(manualRun), RunKeys.RUN)
                        .orElseThrow()
                        .get("status")
                        .s());
    }

    @Test
    @Order(11)
    void window_run_dry_run_prints_the_plan_and_sends_nothing() {
        int runs = ledger.partition(RunKeys.INDEX).size();
        InProcessCli.Result r = InProcessCli.run(local, "window", "run", "Default", "--dry-run");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("111111111111/us-east-1  patch "), r.out());
        assertTrue(r.out().contains("plan for Default_maintenance_window (organization): "), r.out());
        assertTrue(r.out().contains("nothing was changed"), r.out());
        assertEquals(runs, ledger.partition(RunKeys.INDEX).size());
    }

    @Test
    @Order(12)
    void emergency_start_follow_follows_its_run_to_the_end() {
        InProcessCli.Result r = InProcessCli.run(
                local,
                "emergency",
                "start",
                "--as",
                "oncall-requester",
                "--env",
                "Dev",
                "--accounts",
                "111111111111",
                "--regions",
                "us-east-1",
                "--request-id",
                "chg-follow",
                "--reason",
                "test",
                "--follow");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("run chg-follow\n"), r.out());
        assertTrue(
                r.out()
                        .lines()
                        .anyMatch(l ->
                                l.matches("Succeeded: 1/1 account-regions and groups · [1-9]\\d* patched · 0 failed")),
                r.out());
    }

    @Test
    @Order(13)
    void report_run_follow_prints_its_id_and_ends_when_the_report_is_published() {
        InProcessCli.Result r = InProcessCli.run(local, "report", "run", "--report", "instance_list", "--follow");
        assertEquals(0, r.exit(), r.out() + r.err());
        String id = r.out().lines().findFirst().orElse("").replaceAll("^report (report-\\S+) queued: .*$", "$1");
        assertTrue(id.matches("report-\\d{8}T\\d{4}-[0-9a-f]+"), r.out());
        assertTrue(r.out().contains("Published: "), r.out());
        assertTrue(r.out().contains("· 1 reports written"), r.out());
        assertTrue(
                r.out()
                        .lines()
                        .toList()
                        .get(r.out().lines().toList().size() - 1)
                        .equals("report " + id + " Published"),
                r.out());
    }
}
