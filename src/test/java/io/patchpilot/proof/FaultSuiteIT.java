package io.patchpilot.proof;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.patchpilot.ami.AmiNames;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.bench.GeneratedFleet;
import io.patchpilot.errors.DeadLetters;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.Json;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.Prometheus;
import io.patchpilot.testing.ServiceProcess;
import io.patchpilot.testing.SlackStub;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * The fault suite: the service in its own JVM against one local AWS, through the faults a
 * production service meets. Each scenario asserts on AWS state, the ledger and the queues, and
 * prints one {@code FAULTS} line with its counts. (Patch runs and AMI builds under SIGKILL are
 * {@code ServiceKillIT}; AMI failures at every step are {@code AmiFaultIT}; two replicas are
 * {@code ScaleOutIT}.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultSuiteIT {
    private static final List<String> ACCOUNTS = LocalFixture.MEMBERS;
    private static final List<String> QUEUES = List.of(
            "patchpilot-config-events",
            "patchpilot-schedules",
            "patchpilot-self-service",
            "patchpilot-emergency",
            "patchpilot-approvals",
            "patchpilot-work");
    private static final MaintenanceWindow DEFAULT = MaintenanceWindow.defaultWindow(null);
    /** How old a tagging batch's write-ahead record must be before the sweep settles it (900 s by default). */
    private static final Duration ABANDONED_AFTER = Duration.ofSeconds(20);

    private static LocalMode local;
    private static Ledger ledger;
    private static SlackStub slack;
    private static int smtpPort;
    private static GreenMail mail;
    private static ServiceProcess service;
    private static Instant nextOccurrence = Instant.now();

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> settings = Map.of(
                "patchpilot.queue.visibility-seconds",
                "5",
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-outbox").toString());
        local = LocalMode.startWithoutService(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", "0.5", "--refresh-delay", "0.5", "--config-evaluation", "off"),
                settings));
        ledger = new Ledger(local.aws(), local.config().ledgerTable());
        slack = new SlackStub();
        smtpPort = LocalAws.freePort();
        mail = startMail();
        service = startService("faults-1");
    }

    /** Each scenario counts only its own dead letters: one that failed leaves none to the next. */
    @BeforeEach
    void emptyDeadLetterQueues() {
        for (String q : QUEUES) LocalFixture.drain(local, q + "-dlq");
    }

    @AfterAll
    static void stop() throws Exception {
        if (service != null) service.close();
        if (mail != null) mail.stop();
        if (slack != null) slack.close();
        if (local != null) local.close();
    }

    private static GreenMail startMail() {
        GreenMail m = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        m.start();
        return m;
    }

    private static ServiceProcess startService(String name) throws Exception {
        return ServiceProcess.start(
                local,
                name,
                Map.of(
                        "PATCHPILOT_QUEUE_VISIBILITY_SECONDS",
                        "5",
                        "PATCHPILOT_TAGGING_ABANDONED_AFTER_SECONDS",
                        Long.toString(ABANDONED_AFTER.toSeconds()),
                        "PATCHPILOT_PATCHING_STEP_LEASE_SECONDS",
                        "15",
                        "PATCHPILOT_MAIL_PORT",
                        Integer.toString(smtpPort),
                        "PATCHPILOT_SLACK_WEBHOOK_URL",
                        slack.url()));
    }

    // --- scenarios ----------------------------------------------------------------------

    @Test
    @Order(1)
    void every_message_three_times_under_30_percent_throttling_and_5_percent_server_errors() throws Exception {
        Map<String, Double> before = Prometheus.scrape(service.httpPort());
        List<String> events = new ArrayList<>();
        for (Fleet i : fleet()) events.add(GeneratedFleet.configEvent(i.account(), i.region(), i.id()));
        String fire = windowFire(nextOccurrence());
        String emergency = """
                {"requestId":"chg-faults-1","env":"Dev","include_asg":"No","patching_operation":"Install",
                 "operation_post_patching":"NoReboot","accounts":[],"regions":[],"reason":"fault suite"}""";
        // the requester's key is looked up before the faults begin: only the service (and the ledger reads
        // of awaitRunEnded, which ride them out) meets the throttling
        try (SqsClient requester = LocalFixture.sqsAs(local, "oncall-requester")) {
            String url = LocalFixture.queueUrl(local, "patchpilot-emergency");
            local.localAws()
                    .control()
                    .post(
                            "faults",
                            Map.of(
                                    "rules",
                                    List.of(Map.of(
                                            "service",
                                            "*",
                                            "operation",
                                            "*",
                                            "throttleRate",
                                            0.3,
                                            "errorRate",
                                            0.05))));
            try {
                for (int copy = 0; copy < 3; copy++) {
                    send("patchpilot-config-events", events);
                    send("patchpilot-schedules", List.of("{\"type\":\"reconcile\"}"));
                }
                await().atMost(Duration.ofSeconds(180))
                        .until(() -> quiet("patchpilot-config-events", "patchpilot-work"));
                for (int copy = 0; copy < 3; copy++) {
                    send("patchpilot-schedules", List.of(fire));
                    requester.sendMessage(r -> r.queueUrl(url).messageBody(emergency));
                }
                awaitRunEnded(PatchRuns.runId(DEFAULT, lastOccurrence), 240);
                awaitRunEnded("chg-faults-1", 240);
                await().atMost(Duration.ofSeconds(120)).until(() -> quiet(QUEUES.toArray(String[]::new)));
            } finally {
                local.localAws().control().delete("faults");
            }
        }
        long throttled = 0;
        long errors = 0;
        for (var c : local.localAws().control().get("calls").path("calls")) {
            throttled += c.path("throttled").asLong();
            errors += c.path("errors").asLong();
        }
        assertTrue(
                throttled > 0 && errors > 0,
                "faults were injected: " + throttled + " throttled, " + errors + " errors");

        assertTagsRight();
        Map<String, Integer> scheduled = LocalFixture.commandsPerInstance(
                local, LocalFixture.accountRegions(local, ACCOUNTS), PatchRuns.runId(DEFAULT, lastOccurrence));
        Map<String, Integer> urgent =
                LocalFixture.commandsPerInstance(local, LocalFixture.accountRegions(local, ACCOUNTS), "chg-faults-1");
        assertFalse(scheduled.isEmpty() || urgent.isEmpty(), "both runs patched: " + scheduled + " " + urgent);
        assertEquals(
                Set.of(1), Set.copyOf(scheduled.values()), "each instance once in the scheduled run: " + scheduled);
        assertEquals(Set.of(1), Set.copyOf(urgent.values()), "each instance once in the emergency run: " + urgent);
        Set<String> dev = instancesTagged("environment", "Dev");
        assertTrue(
                dev.containsAll(urgent.keySet()), "the emergency run patched Dev instances only: " + urgent.keySet());
        assertTrue(
                urgent.keySet().containsAll(named("dev-web")), "and the managed ones among them: " + urgent.keySet());
        assertEquals(
                1,
                ledger.partition(RunKeys.INDEX).stream()
                        .filter(i -> i.get("runId").s().equals(PatchRuns.runId(DEFAULT, lastOccurrence)))
                        .count());
        assertNoDeadLetters();

        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        long duplicates = delta(before, after, "patchpilot_duplicates_suppressed_total");
        assertTrue(duplicates >= 2 * events.size(), "repeats were recognised: " + duplicates);
        counts(
                "every message x3 under 30% throttling + 5% 5xx",
                3 * (events.size() + 1 + 2),
                delta(before, after, "patchpilot_messages_consumed_total"),
                0,
                duplicates,
                0,
                "throttled " + throttled + ", 5xx " + errors + ", commands " + (scheduled.size() + urgent.size()));
    }

    @Test
    @Order(2)
    void
            a_thousand_malformed_messages_across_all_queues_each_land_in_their_dlq_with_a_reason_and_valid_ones_still_work()
                    throws Exception {
        Map<String, Double> before = Prometheus.scrape(service.httpPort());
        List<Fleet> valid =
                fleet().stream().filter(i -> i.account().equals("333333333333")).toList();
        wrongTags(valid);
        Map<String, List<String>> malformed = new LinkedHashMap<>();
        for (int n = 0; n < 1000; n++) {
            String queue = QUEUES.get(n % QUEUES.size());
            malformed.computeIfAbsent(queue, q -> new ArrayList<>()).add(Malformed.body(queue, n));
        }
        // valid events are interleaved with the bad ones on the same queue
        List<String> configBodies = new ArrayList<>(malformed.get("patchpilot-config-events"));
        for (int k = 0; k < valid.size(); k++)
            configBodies.add(
                    k * configBodies.size() / valid.size(),
                    GeneratedFleet.configEvent(
                            valid.get(k).account(),
                            valid.get(k).region(),
                            valid.get(k).id()));
        malformed.forEach(
                (queue, bodies) -> send(queue, queue.equals("patchpilot-config-events") ? configBodies : bodies));

        Map<String, List<Message>> dlq = new HashMap<>();
        await().atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofSeconds(2))
                .until(() -> {
                    for (String q : QUEUES)
                        dlq.computeIfAbsent(q, k -> new ArrayList<>()).addAll(LocalFixture.drain(local, q + "-dlq"));
                    return dlq.values().stream().mapToInt(List::size).sum() >= 1000
                            && quiet(QUEUES.toArray(String[]::new));
                });
        int rejected = 0;
        for (String q : QUEUES) {
            Set<String> expected = new HashSet<>(malformed.get(q));
            Set<String> got = new HashSet<>();
            for (Message m : dlq.get(q)) {
                String reason = m.messageAttributes().containsKey(DeadLetters.ERROR_ATTRIBUTE)
                        ? m.messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE).stringValue()
                        : "";
                assertFalse(reason.isBlank() || reason.contains("\n"), q + ": a one-line reason for " + m.body());
                assertEquals(
                        q,
                        m.messageAttributes()
                                .get(DeadLetters.SOURCE_QUEUE_ATTRIBUTE)
                                .stringValue());
                got.add(m.body().equals("(empty)") ? "" : m.body());
            }
            assertEquals(expected, got, q + ": every malformed message, nothing else, in its DLQ");
            assertEquals(expected.size(), dlq.get(q).size(), q + ": each once");
            rejected += got.size();
        }
        assertTagsRight();
        assertEquals(200, status("/health/ready"), "the service is still ready");
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "1,000 malformed across " + QUEUES.size() + " queues + " + valid.size() + " valid",
                1000 + valid.size(),
                delta(before, after, "patchpilot_messages_consumed_total"),
                rejected,
                delta(before, after, "patchpilot_duplicates_suppressed_total"),
                0,
                "valid events applied: " + valid.size());
    }

    @Test
    @Order(3)
    void one_account_denying_access_fails_alone_and_the_rest_of_the_organization_is_tagged_and_patched()
            throws Exception {
        String denied = "222222222222";
        List<Fleet> all = fleet();
        wrongTags(all);
        List<String> events = new ArrayList<>();
        for (Fleet i : all) events.add(GeneratedFleet.configEvent(i.account(), i.region(), i.id()));
        // the account no longer lets the hub assume its role: sessions already issued would run on
        // until they expire (as in AWS), so a fresh service meets the refusal at once
        local.localAws().control().post("faults", Map.of("rules", List.of(), "accessDeniedAccounts", List.of(denied)));
        String runId;
        Map<String, Double> before;
        try {
            service.close();
            service = startService("faults-denied");
            before = Prometheus.scrape(service.httpPort());
            send("patchpilot-config-events", events);
            await().atMost(Duration.ofSeconds(120)).until(() -> quiet("patchpilot-config-events"));
            Instant occurrence = nextOccurrence();
            send("patchpilot-schedules", List.of(windowFire(occurrence)));
            runId = PatchRuns.runId(DEFAULT, occurrence);
            awaitRunEnded(runId, 180);
        } finally {
            local.localAws().control().delete("faults");
        }
        List<Message> dead = peek("patchpilot-config-events-dlq");
        Set<String> deniedBodies = new HashSet<>();
        for (int k = 0; k < all.size(); k++) if (all.get(k).account().equals(denied)) deniedBodies.add(events.get(k));
        Set<String> deadBodies = new HashSet<>();
        dead.forEach(m -> deadBodies.add(m.body()));
        // with a 5 s visibility timeout a slow first batch can see its message delivered again
        // before the rejection deletes it: the DLQ then holds it twice, never zero times
        assertEquals(deniedBodies, deadBodies, "each event of the denied account rejected, nothing else");
        dead.forEach(m -> assertTrue(
                m.messageAttributes()
                        .get(DeadLetters.ERROR_ATTRIBUTE)
                        .stringValue()
                        .contains(denied),
                "reason names the account"));
        for (Fleet i : all) {
            String window = tagsOf(i).get("maintenance_window");
            if (i.account().equals(denied))
                assertTrue(window == null || window.equals("wrong"), "nothing written in the denied account");
            else assertTrue(window == null || !window.equals("wrong"), i + " re-tagged");
        }
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
        assertEquals("CompletedWithFailures", run.get("status").s());
        int failedTargets = 0;
        for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
            if (!t.get("sk").s().startsWith("TARGET#")) continue;
            if (t.get("account").s().equals(denied)) {
                failedTargets++;
                assertEquals("Failed", t.get("state").s());
                assertTrue(t.containsKey("reason") && t.get("reason").s().contains("AccessDenied"), "reason: " + t);
            }
        }
        Map<String, Integer> commands =
                LocalFixture.commandsPerInstance(local, LocalFixture.accountRegions(local, ACCOUNTS), runId);
        assertTrue(
                commands.size() > 3 && Set.copyOf(commands.values()).equals(Set.of(1)),
                "the others patched once each: " + commands);
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "account " + denied + " AccessDenied",
                events.size() + 1,
                delta(before, after, "patchpilot_messages_consumed_total"),
                dead.size(),
                delta(before, after, "patchpilot_duplicates_suppressed_total"),
                0,
                "failed account-regions " + failedTargets + ", instances patched elsewhere " + commands.size()
                        + ", dead letters delivered twice " + (dead.size() - deadBodies.size()));
        // access restored, the operator sends the dead letters back: nothing was lost
        InProcessCli.Result listed = InProcessCli.run(local, "dlq", "list", "config-events");
        assertTrue(listed.out().contains(dead.size() + " dead letters in patchpilot-config-events-dlq"), listed.out());
        assertTrue(listed.out().contains("AccessDenied"), listed.out());
        InProcessCli.Result redriven = InProcessCli.run(local, "dlq", "redrive", "config-events");
        assertEquals(0, redriven.exit(), redriven.out() + redriven.err());
        assertTrue(redriven.out().contains(dead.size() + " dead letters sent back"), redriven.out());
        await().atMost(Duration.ofSeconds(120)).until(() -> quiet("patchpilot-config-events"));
        assertTagsRight();
        assertNoDeadLetters();
    }

    @Test
    @Order(4)
    void the_local_aws_stopped_for_30_seconds_mid_run_delays_the_run_but_loses_and_repeats_nothing() throws Exception {
        Map<String, Double> before = Prometheus.scrape(service.httpPort());
        List<Fleet> some =
                fleet().stream().filter(i -> i.account().equals("111111111111")).toList();
        wrongTags(some);
        Instant occurrence = nextOccurrence();
        String runId = PatchRuns.runId(DEFAULT, occurrence);
        send("patchpilot-schedules", List.of(windowFire(occurrence)));
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> targetStates(runId).containsValue("Sent"));
        List<String> events = some.stream()
                .map(i -> GeneratedFleet.configEvent(i.account(), i.region(), i.id()))
                .toList();
        send("patchpilot-config-events", events);
        List<ProcessHandle> frozen = freeze(local.localAws());
        long frozenAt = System.nanoTime();
        try { // the service lives through 30 s without AWS
            await().during(Duration.ofSeconds(30))
                    .atMost(Duration.ofSeconds(40))
                    .until(service::isAlive);
        } finally {
            frozen.forEach(p -> signal(p, "CONT"));
        }
        System.out.printf(
                "local AWS (%d processes) stopped for %.0f s%n", frozen.size(), (System.nanoTime() - frozenAt) / 1e9);
        awaitRunEnded(runId, 240);
        await().atMost(Duration.ofSeconds(120)).until(() -> quiet(QUEUES.toArray(String[]::new)));
        assertTagsRight();
        Map<String, Integer> commands =
                LocalFixture.commandsPerInstance(local, LocalFixture.accountRegions(local, ACCOUNTS), runId);
        assertTrue(
                !commands.isEmpty() && Set.copyOf(commands.values()).equals(Set.of(1)),
                "each instance once: " + commands);
        assertNoDeadLetters();
        assertEquals(200, status("/health/ready"));
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "local AWS stopped 30 s mid-run",
                events.size() + 1,
                delta(before, after, "patchpilot_messages_consumed_total"),
                0,
                delta(before, after, "patchpilot_duplicates_suppressed_total"),
                0,
                "failed deliveries retried " + delta(before, after, "patchpilot_messages_failed_total")
                        + ", instances patched " + commands.size());
    }

    @Test
    @Order(5)
    void smtp_and_slack_down_during_a_report_deliver_once_each_when_they_are_back() throws Exception {
        Map<String, Double> before = Prometheus.scrape(service.httpPort());
        mail.stop();
        slack.answer(503);
        int postsBefore = slack.posts().size();
        int deliveredBefore = slack.delivered().size();
        int failedPosts;
        try {
            send("patchpilot-schedules", List.of("{\"type\":\"report\"}"));
            S3Client s3 = local.aws().hub(S3Client.class);
            String reports = local.config().buckets().reports();
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> s3.listObjectsV2(r -> r.bucket(reports).prefix("reports/latest/"))
                                    .keyCount()
                            >= 8);
            // both channels have failed at least twice by now, and their messages wait for a next try
            await().atMost(Duration.ofSeconds(60)).until(() -> slack.posts().size() - postsBefore >= 2);
            await().during(Duration.ofSeconds(5))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> deadLetters().values().stream().allMatch(d -> d == 0));
            assertNoDeadLetters();
            failedPosts = slack.posts().size() - postsBefore;
        } finally { // back up whatever happened, for the scenarios after this one
            mail = startMail();
            slack.answer(200);
        }
        await().atMost(Duration.ofSeconds(180))
                .until(() -> quiet(QUEUES.toArray(String[]::new))
                        && subjects().stream().anyMatch(s -> s.contains("managed instances compliant")));
        // and no second copy follows
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(8))
                .until(() -> subjects().stream()
                                .filter(s -> s.contains("managed instances compliant"))
                                .count()
                        == 1);
        List<String> reportMails = subjects().stream()
                .filter(s -> s.contains("managed instances compliant"))
                .toList();
        assertEquals(1, reportMails.size(), "one team mail: " + subjects());
        List<String> reportPosts = slack
                .delivered()
                .subList(deliveredBefore, slack.delivered().size())
                .stream()
                .filter(p -> p.contains("compliant"))
                .toList();
        assertEquals(
                1,
                reportPosts.size(),
                "after " + failedPosts + " refused tries, exactly one delivered post: " + reportPosts);
        assertNoDeadLetters();
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "SMTP and Slack down during a report",
                1,
                delta(before, after, "patchpilot_messages_consumed_total"),
                0,
                delta(before, after, "patchpilot_duplicates_suppressed_total"),
                0,
                "mails delivered " + mail.getReceivedMessages().length + ", Slack tries refused " + failedPosts
                        + " then 1 delivered");
    }

    @Test
    @Order(6)
    void sigkill_while_tagging_then_restart_tags_everything_once_and_loses_nothing() throws Exception {
        List<Fleet> all = fleet();
        Set<String> ids = wrongTags(all, "wrong-before-kill");
        List<String> events = new ArrayList<>();
        for (int copy = 0; copy < 5; copy++)
            for (Fleet i : all) events.add(GeneratedFleet.configEvent(i.account(), i.region(), i.id()));
        local.localAws().control().delete("calls");
        int left;
        long killedAt;
        // slow EC2 down so the kill lands while batches are in flight
        local.localAws()
                .control()
                .post("faults", Map.of("rules", List.of(Map.of("service", "ec2", "operation", "*", "latencyMs", 400))));
        try {
            send("patchpilot-config-events", events);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> local.localAws().control().callCount("ec2", "CreateTags") > 0);
            service.kill();
            killedAt = System.nanoTime();
            service.close();
            left = LocalFixture.depth(local, "patchpilot-config-events");
            System.out.printf("killed while tagging: %d of %d events not yet acknowledged%n", left, events.size());
            assertTrue(left > 0, "killed mid-way");
            local.localAws().control().delete("faults");
            service = startService("faults-2");
            await().atMost(Duration.ofSeconds(120)).until(() -> quiet("patchpilot-config-events", "patchpilot-work"));
        } finally {
            local.localAws().control().delete("faults");
        }
        assertTagsRight();
        int auditedBeforeSweep = audited(ids).size();
        // a batch whose CreateTags went out just before the kill left its changes recorded ahead and
        // not audited (its redelivery found the tags right); the sweep, once that record is older
        // than the setting, audits them on the tags it finds
        await().atMost(ABANDONED_AFTER.plusSeconds(5))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> System.nanoTime() - killedAt
                        > ABANDONED_AFTER.plusSeconds(1).toNanos());
        send("patchpilot-schedules", List.of("{\"type\":\"reconcile\"}"));
        await().atMost(Duration.ofSeconds(120))
                .until(() -> audited(ids).size() == ids.size() && quiet("patchpilot-schedules", "patchpilot-work"));
        // and nothing twice: no resource appears twice among the audited changes
        Map<String, Integer> audited = audited(ids);
        assertTrue(audited.values().stream().allMatch(n -> n == 1), "no resource re-tagged twice: " + audited);
        assertEquals(ids.size(), audited.size(), "every change audited");
        assertNoDeadLetters();
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "SIGKILL while tagging, restart",
                events.size(),
                Prometheus.sum(after, "patchpilot_messages_consumed_total"),
                0,
                Prometheus.sum(after, "patchpilot_duplicates_suppressed_total"),
                0,
                "killed with " + left + " unacknowledged; resources audited once "
                        + audited.size() + " of " + ids.size() + " (" + (audited.size() - auditedBeforeSweep)
                        + " of them found applied by the sweep; processed and duplicates are the restarted process's)");
    }

    @Test
    @Order(7)
    void sqs_throttling_5xx_dropped_connections_slow_answers_and_messages_delivered_twice_lose_and_repeat_nothing()
            throws Exception {
        Map<String, Double> before = Prometheus.scrape(service.httpPort());
        List<Fleet> some = fleet().stream()
                .filter(i -> !i.account().equals("111111111111"))
                .toList();
        Set<String> wronged = wrongTags(some, "wrong-sqs-faults");
        List<String> events = fleet().stream()
                .map(i -> GeneratedFleet.configEvent(i.account(), i.region(), i.id()))
                .toList();
        Instant occurrence = nextOccurrence();
        String runId = PatchRuns.runId(DEFAULT, occurrence);
        String emergency = """
                {"requestId":"chg-sqs-faults","env":"Dev","include_asg":"No","patching_operation":"Install",
                 "operation_post_patching":"NoReboot","accounts":[],"regions":[],"reason":"fault suite: SQS faults"}""";
        // the test's own sends ride the faults out with many attempts (RequestThrottled, 5xx and a dropped
        // connection are retried; a send whose answer was lost is sent twice, as a real producer's would be);
        // OverLimit, which no client retries, is injected into the service's receives only
        JsonNode injected;
        try (SqsClient hub = retryingSqs(AwsBasicCredentials.create("test", "test"));
                SqsClient requester = retryingSqs(AwsBasicCredentials.create(
                        local.aws()
                                .hub(IamClient.class, "aws-global")
                                .listAccessKeys(r -> r.userName("oncall-requester"))
                                .accessKeyMetadata()
                                .get(0)
                                .accessKeyId(),
                        "local"))) {
            String url = LocalFixture.queueUrl(local, "patchpilot-emergency");
            local.localAws()
                    .control()
                    .post(
                            "faults",
                            Map.of(
                                    "rules",
                                    List.of(
                                            Map.of(
                                                    "service",
                                                    "sqs",
                                                    "operation",
                                                    "ReceiveMessage",
                                                    "throttleRate",
                                                    0.08,
                                                    "throttleCode",
                                                    "OverLimit",
                                                    "errorRate",
                                                    0.04,
                                                    "resetRate",
                                                    0.03,
                                                    "duplicateRate",
                                                    0.15,
                                                    "latencyMs",
                                                    10,
                                                    "jitterMs",
                                                    150),
                                            Map.of(
                                                    "service",
                                                    "sqs",
                                                    "operation",
                                                    "*",
                                                    "throttleRate",
                                                    0.12,
                                                    "errorRate",
                                                    0.04,
                                                    "resetRate",
                                                    0.03,
                                                    "latencyMs",
                                                    10,
                                                    "jitterMs",
                                                    150))));
            try {
                sendWith(hub, "patchpilot-config-events", events);
                // the runs select instances by their tags: tagged first
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofSeconds(1))
                        .ignoreExceptions()
                        .until(() -> quiet("patchpilot-config-events", "patchpilot-work"));
                sendWith(hub, "patchpilot-schedules", List.of(windowFire(occurrence)));
                requester.sendMessage(r -> r.queueUrl(url).messageBody(emergency));
                awaitRunEnded(runId, 300);
                awaitRunEnded("chg-sqs-faults", 300);
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofSeconds(1))
                        .ignoreExceptions()
                        .until(() -> quiet(QUEUES.toArray(String[]::new)));
            } finally {
                local.localAws().control().delete("faults");
                injected = sqsFaults();
            }
            System.out.println("SQS faults injected: " + injected);
            for (String kind : List.of("throttled", "overLimit", "errors", "resets", "duplicated", "slowed"))
                assertTrue(injected.path(kind).asLong() > 0, "injected " + kind + ": " + injected);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> quiet(QUEUES.toArray(String[]::new)));
        assertTagsRight();
        Map<String, Integer> audited = audited(wronged, "wrong-sqs-faults");
        assertEquals(wronged.size(), audited.size(), "every change audited: " + audited);
        assertTrue(audited.values().stream().allMatch(n -> n == 1), "each change audited once: " + audited);
        Map<String, Integer> scheduled =
                LocalFixture.commandsPerInstance(local, LocalFixture.accountRegions(local, ACCOUNTS), runId);
        Map<String, Integer> urgent =
                LocalFixture.commandsPerInstance(local, LocalFixture.accountRegions(local, ACCOUNTS), "chg-sqs-faults");
        assertFalse(scheduled.isEmpty() || urgent.isEmpty(), "both runs patched: " + scheduled + " " + urgent);
        assertEquals(Set.of(1), Set.copyOf(scheduled.values()), "each instance once in the window run: " + scheduled);
        assertEquals(Set.of(1), Set.copyOf(urgent.values()), "each instance once in the emergency run: " + urgent);
        assertNoDeadLetters();
        Map<String, Double> after = Prometheus.scrape(service.httpPort());
        counts(
                "SQS throttled/OverLimit/5xx/reset/slow/twice",
                events.size() + 2,
                delta(before, after, "patchpilot_messages_consumed_total"),
                0,
                delta(before, after, "patchpilot_duplicates_suppressed_total"),
                0,
                "injected " + injected + ", changes audited " + audited.size() + ", commands "
                        + (scheduled.size() + urgent.size()));
    }

    // --- helpers --------------------------------------------------------------------------

    private record Fleet(String account, String region, String id, String name) {}

    private static Instant lastOccurrence;

    private static Instant nextOccurrence() {
        lastOccurrence = WindowSchedule.nextOpening(DEFAULT, nextOccurrence).orElseThrow();
        nextOccurrence = lastOccurrence.plusSeconds(1);
        return lastOccurrence;
    }

    private static String windowFire(Instant occurrence) {
        return "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}";
    }

    /** Every instance of the fleet that is not part of an AutoScaling group or an AMI build. */
    private static List<Fleet> fleet() {
        List<Fleet> out = new ArrayList<>();
        for (String account : ACCOUNTS) {
            for (String region : local.config().regions()) {
                ec2(account, region)
                        .describeInstancesPaginator(r -> r.maxResults(100))
                        .reservations()
                        .forEach(res -> res.instances().forEach(i -> {
                            Map<String, String> tags = tags(i);
                            // AutoScaling members and AMI build instances come and go with the groups' refreshes
                            if (!tags.containsKey("aws:autoscaling:groupName")
                                    && !tags.containsKey(AmiNames.BUILD_TAG)
                                    && !i.state().nameAsString().equals("terminated")) {
                                out.add(new Fleet(account, region, i.instanceId(), tags.getOrDefault("Name", "")));
                            }
                        }));
            }
        }
        return out;
    }

    private static Ec2Client ec2(String account, String region) {
        return local.aws().member(Ec2Client.class, new AccountRegion(account, region), "test");
    }

    private static Map<String, String> tags(Instance i) {
        Map<String, String> t = new HashMap<>();
        i.tags().forEach(x -> t.put(x.key(), x.value()));
        return t;
    }

    private static Map<String, String> tagsOf(Fleet f) {
        return tags(ec2(f.account(), f.region())
                .describeInstances(r -> r.instanceIds(f.id()))
                .reservations()
                .get(0)
                .instances()
                .get(0));
    }

    /**
     * A patch-window tag that no policy would choose, on those of the instances given that their
     * policy tags (they have a window already; exempt ones have none and stay untouched).
     */
    private static void wrongTags(List<Fleet> instances) {
        wrongTags(instances, "wrong");
    }

    /** Sets a wrong window on each instance that has one; returns their ids. */
    private static Set<String> wrongTags(List<Fleet> instances, String value) {
        Set<String> wronged = new HashSet<>();
        for (Fleet i : instances) {
            if (!tagsOf(i).containsKey("maintenance_window")) continue;
            ec2(i.account(), i.region())
                    .createTags(r -> r.resources(i.id())
                            .tags(Tag.builder()
                                    .key("maintenance_window")
                                    .value(value)
                                    .build()));
            wronged.add(i.id());
        }
        return wronged;
    }

    /** The sweep's own dry run lists nothing to change: every instance has the tags its policy gives. */
    private static void assertTagsRight() {
        InProcessCli.Result dry = InProcessCli.run(local, "tags", "reconcile", "--dry-run");
        assertEquals(0, dry.exit(), dry.out() + dry.err());
        for (Fleet i : fleet()) assertFalse(dry.out().contains(i.id()), i + " still needs tags:\n" + dry.out());
        for (Fleet i : fleet())
            assertFalse(tagsOf(i).getOrDefault("maintenance_window", "").startsWith("wrong"), i + " still wrong");
    }

    private static Set<String> named(String name) {
        Set<String> ids = new HashSet<>();
        for (Fleet i : fleet()) if (i.name().equals(name)) ids.add(i.id());
        return ids;
    }

    private static Set<String> instancesTagged(String key, String value) {
        Set<String> ids = new HashSet<>();
        for (Fleet i : fleet()) if (value.equals(tagsOf(i).get(key))) ids.add(i.id());
        return ids;
    }

    private static void send(String queue, List<String> bodies) {
        sendWith(local.aws().hub(SqsClient.class), queue, bodies);
    }

    private static void sendWith(SqsClient sqs, String queue, List<String> bodies) {
        String url = LocalFixture.queueUrl(local, queue);
        for (int i = 0; i < bodies.size(); i += 10) {
            List<SendMessageBatchRequestEntry> batch = new ArrayList<>();
            for (int k = i; k < Math.min(bodies.size(), i + 10); k++) {
                String body = bodies.get(k);
                batch.add(SendMessageBatchRequestEntry.builder()
                        .id(Integer.toString(k - i))
                        .messageBody(body.isEmpty() ? " " : body)
                        .build());
            }
            var r = sqs.sendMessageBatch(b -> b.queueUrl(url).entries(batch));
            assertTrue(r.failed().isEmpty(), queue + ": " + r.failed());
        }
    }

    /** A client of the local SQS that retries throttling, 5xx and dropped connections up to 20 times. */
    private static SqsClient retryingSqs(AwsCredentials credentials) {
        return SqsClient.builder()
                .endpointOverride(local.localAws().sqsEndpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(credentials))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(20)
                        .build()))
                .build();
    }

    /** The SQS fault rules in force and what the local SQS injected so far. */
    private static JsonNode sqsFaults() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(local.localAws().sqsEndpoint().resolve("/_localaws/faults"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Json.read(r.body()).path("injected");
    }

    /** No message visible or in flight. */
    private static boolean quiet(String... queues) {
        for (String q : queues) if (LocalFixture.depth(local, q) > 0) return false;
        return true;
    }

    /** The messages of a queue, left in it (made visible again at once). */
    private static List<Message> peek(String queue) {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = LocalFixture.queueUrl(local, queue);
        Map<String, Message> seen = new LinkedHashMap<>();
        while (true) {
            List<Message> got = sqs.receiveMessage(r -> r.queueUrl(url)
                            .maxNumberOfMessages(10)
                            .waitTimeSeconds(0)
                            .visibilityTimeout(1)
                            .messageAttributeNames("All")
                            .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
                    .messages();
            if (got.isEmpty() || got.stream().allMatch(m -> seen.containsKey(m.messageId()))) break;
            got.forEach(m -> seen.put(m.messageId(), m));
        }
        for (Message m : seen.values()) {
            try {
                sqs.changeMessageVisibility(
                        r -> r.queueUrl(url).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
            } catch (SqsException stale) {
                // received again meanwhile: it is visible again within a second anyway
            }
        }
        return new ArrayList<>(seen.values());
    }

    /** Every DLQ empty; else what is in them (bodies, receive counts), left in place. */
    private static void assertNoDeadLetters() {
        Map<String, Integer> depths = deadLetters();
        if (depths.values().stream().allMatch(d -> d == 0)) return;
        StringBuilder what = new StringBuilder(depths.toString());
        for (String q : QUEUES) {
            for (Message m : peek(q + "-dlq")) {
                what.append("\n")
                        .append(q)
                        .append("-dlq: ")
                        .append(m.body(), 0, Math.min(300, m.body().length()))
                        .append(" receives ")
                        .append(m.attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
                        .append(" reason ")
                        .append(
                                m.messageAttributes().containsKey(DeadLetters.ERROR_ATTRIBUTE)
                                        ? m.messageAttributes()
                                                .get(DeadLetters.ERROR_ATTRIBUTE)
                                                .stringValue()
                                        : "(none: redriven by SQS)");
            }
        }
        throw new AssertionError("dead letters: " + what);
    }

    /** DLQ → messages in it (left in place). */
    private static Map<String, Integer> deadLetters() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String q : QUEUES) out.put(q + "-dlq", LocalFixture.depth(local, q + "-dlq"));
        return out;
    }

    /** Until the run has ended; a read throttled or failed by the faults this suite injects is read again next second. */
    private static void awaitRunEnded(String runId, int seconds) {
        await().atMost(Duration.ofSeconds(seconds))
                .pollInterval(Duration.ofSeconds(1))
                .ignoreExceptionsMatching(
                        e -> e instanceof AwsServiceException a && (a.isThrottlingException() || a.statusCode() >= 500))
                .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                        .isPresent());
    }

    private static Map<String, String> targetStates(String runId) {
        Map<String, String> out = new HashMap<>();
        for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
            if (t.get("sk").s().startsWith("TARGET#"))
                out.put(t.get("sk").s(), t.get("state").s());
        }
        return out;
    }

    /** Of these resources, id → how many audited changes name it (those named at all). */
    private static Map<String, Integer> audited(Set<String> ids) {
        return audited(ids, "wrong-before-kill");
    }

    /** Resource id → audited tag changes that found its window {@code before}, for the given resources. */
    private static Map<String, Integer> audited(Set<String> ids, String before) {
        Map<String, Integer> out = new HashMap<>();
        auditedChanges(before).forEach((id, n) -> {
            if (ids.contains(id)) out.put(id, n);
        });
        return out;
    }

    /** Resource id → how many audited tag changes name it, over every account-region (ledger TAGS# items). */
    private static Map<String, Integer> auditedChanges(String before) {
        Map<String, Integer> out = new HashMap<>();
        for (String account : ACCOUNTS) {
            for (String region : local.config().regions()) {
                for (Map<String, AttributeValue> item : ledger.partition("TAGS#" + account + "#" + region)) {
                    if (!item.containsKey("changes")) continue;
                    for (var c : Json.read(item.get("changes").s())) {
                        if (before.equals(
                                c.path("before").path("maintenance_window").asText()))
                            out.merge(c.path("resourceId").asText(), 1, Integer::sum);
                    }
                }
            }
        }
        return out;
    }

    private static List<ProcessHandle> freeze(LocalAws aws) {
        List<ProcessHandle> all = new ArrayList<>();
        for (long pid : aws.pids()) {
            ProcessHandle.of(pid).ifPresent(p -> {
                all.add(p);
                p.descendants().forEach(all::add);
            });
        }
        all.forEach(p -> signal(p, "STOP"));
        return all;
    }

    private static void signal(ProcessHandle p, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .inheritIO()
                    .start()
                    .waitFor();
        } catch (Exception e) {
            throw new IllegalStateException("kill -" + signal + " " + p.pid(), e);
        }
    }

    private static int status(String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort() + path))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static List<String> subjects() {
        List<String> out = new ArrayList<>();
        for (MimeMessage m : mail.getReceivedMessages()) {
            try {
                out.add(m.getSubject());
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    private static long delta(Map<String, Double> before, Map<String, Double> after, String metric) {
        return Prometheus.sum(after, metric) - Prometheus.sum(before, metric);
    }

    static void counts(String scenario, long in, long processed, long dlq, long duplicates, long leaked, String more) {
        System.out.printf(
                "FAULTS %-48s in=%d processed=%d dlq=%d duplicates-suppressed=%d leaked=%d; %s%n",
                scenario + ":", in, processed, dlq, duplicates, leaked, more);
    }

    /** Generated bad input, cycling through the kinds each queue must reject. */
    static final class Malformed {
        private Malformed() {}

        static String body(String queue, int n) {
            String generic = switch (n / QUEUES.size() % 8) {
                case 0 -> "not json at all #" + n;
                case 1 -> "{\"type\": \"window-fire\", #" + n;
                case 2 -> "[" + n + "]";
                case 3 -> "{\"n\":" + n + "}";
                case 4 -> "{\"type\":\"no-such-type-" + n + "\"}";
                case 5 -> "\"just a string " + n + "\"";
                case 6 -> "{\"type\":" + n + ",\"detail\":[]}";
                default -> null;
            };
            if (generic != null) return generic;
            return switch (queue) {
                case "patchpilot-config-events" -> """
                        {"version":"0","id":"m%d","detail-type":"Config Rules Compliance Change","source":"aws.config","account":"999999999999",
                         "region":"us-east-1","detail":{"resourceId":"i-%08d","awsRegion":"us-east-1","awsAccountId":"999999999999",
                         "resourceType":"AWS::EC2::Instance","newEvaluationResult":{"complianceType":"NON_COMPLIANT"}}}""".formatted(n, n);
                case "patchpilot-schedules" ->
                    "{\"type\":\"window-fire\",\"window\":\"No_such_window_" + n
                            + "\",\"time\":\"2026-12-01T00:00:00Z\"}";
                case "patchpilot-self-service" ->
                    "{\"version\":\"0\",\"id\":\"m" + n
                            + "\",\"detail-type\":\"Maintenance Window Request\",\"source\":\"patchpilot.self-service\","
                            + "\"account\":\"111111111111\",\"detail\":{\"action\":\"explode\",\"window\":{\"WindowName\":\"w"
                            + n + "\"}}}";
                case "patchpilot-emergency" ->
                    "{\"requestId\":\"chg-bad-" + n + "\",\"env\":\"Nowhere\",\"operation\":\"Install\"}";
                case "patchpilot-approvals" -> "{\"requestId\":\"chg-unknown-" + n + "\",\"decision\":\"approve\"}";
                default ->
                    "{\"type\":\"patch-target\",\"runId\":\"no-such-run-" + n
                            + "\",\"account\":\"111111111111\",\"region\":\"us-east-1\"}";
            };
        }
    }
}
