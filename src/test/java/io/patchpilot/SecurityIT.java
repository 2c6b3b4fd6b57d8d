package io.patchpilot;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.errors.DeadLetters;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.ServiceProcess;
import io.patchpilot.testing.SlackStub;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Security checks against the service in its own JVM: one account cannot change another's
 * resources, the secrets it is given never show in its log, API, ledger, queues or outbox, and
 * its web endpoints refuse remote access without the token. (Unknown senders of emergency
 * requests and approvals: {@code EmergencyIT}; another account's self-service window:
 * {@code WindowsIT}.)
 */
class SecurityIT {
    private static final String A = "111111111111";
    private static final String B = "222222222222";
    private static final String MAIL_PASSWORD = "mail-pw-" + UUID.randomUUID();
    private static final String EXTERNAL_ID = "ext-" + UUID.randomUUID();
    private static final String TOKEN = "token-" + UUID.randomUUID();

    private static LocalMode local;
    private static SlackStub slack;
    private static ServiceProcess service;
    private static Path outbox;

    @BeforeAll
    static void start() throws Exception {
        outbox = Files.createTempDirectory("patchpilot-outbox");
        local = LocalMode.startWithoutService(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", "0.3", "--config-evaluation", "off"),
                // the member StackSet's roles trust the ExternalId the service below assumes them with
                Map.of(
                        "patchpilot.queue.visibility-seconds",
                        "5",
                        "patchpilot.notify.outbox",
                        outbox.toString(),
                        "patchpilot.member.external-id",
                        EXTERNAL_ID)));
        slack = new SlackStub();
        service = ServiceProcess.start(
                local,
                "security",
                Map.of(
                        "PATCHPILOT_QUEUE_VISIBILITY_SECONDS",
                        "5",
                        "PATCHPILOT_SLACK_WEBHOOK_URL",
                        slack.url(),
                        "PATCHPILOT_MAIL_USERNAME",
                        "patchpilot",
                        "PATCHPILOT_MAIL_PASSWORD",
                        MAIL_PASSWORD,
                        "PATCHPILOT_MEMBER_EXTERNAL_ID",
                        EXTERNAL_ID,
                        "PATCHPILOT_NOTIFY_OUTBOX",
                        outbox.toString()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (service != null) service.close();
        if (slack != null) slack.close();
        if (local != null) local.close();
    }

    @Test
    void an_event_sent_from_account_b_cannot_change_account_a() {
        Instance victim = instances(A, "dev-web").get(0);
        Map<String, String> before = tags(A, victim.instanceId());
        // B's own bus forwards to the hub, so the envelope says B whatever the detail claims
        String detail = """
                {"resourceId":"%s","awsRegion":"us-east-1","awsAccountId":"%s","configRuleName":"patch_tags",
                 "resourceType":"AWS::EC2::Instance","newEvaluationResult":{"complianceType":"NON_COMPLIANT"},
                 "messageType":"ComplianceChangeNotification"}""".formatted(victim.instanceId(), A);
        putEventFrom(B, "aws.config", "Config Rules Compliance Change", detail);
        // and one that names B consistently but carries A's instance id
        putEventFrom(B, "aws.config", "Config Rules Compliance Change", detail.replace(A, B));

        List<Message> dead = await().atMost(Duration.ofSeconds(60))
                .until(() -> LocalFixture.drain(local, "patchpilot-config-events-dlq"), l -> !l.isEmpty());
        assertEquals(
                "detail.awsAccountId " + A + " differs from the sending account " + B,
                dead.get(0).messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE).stringValue());
        await().atMost(Duration.ofSeconds(60)).until(() -> LocalFixture.depth(local, "patchpilot-config-events") == 0);
        assertEquals(before, tags(A, victim.instanceId()), "A's instance untouched");
    }

    @Test
    void secrets_never_appear_in_the_log_the_api_the_ledger_the_queues_or_the_outbox() throws Exception {
        // exercise what handles the secrets: assumed roles, a patch run's mail and Slack post (refused: 404 to the DLQ)
        slack.answer(404);
        LocalFixture.tagAndPatchWithDefaultWindow(local);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !slack.posts().isEmpty() && LocalFixture.depth(local, "patchpilot-work-dlq") > 0);
        slack.answer(200);

        List<String> places = new ArrayList<>();
        places.add("log:" + Files.readString(service.log()));
        for (String path :
                List.of("/", "/api/compliance", "/api/runs", "/api/windows", "/metrics", "/health", "/health/ready")) {
            places.add(path + ":" + get(service.httpPort(), path, null).body());
        }
        local.aws()
                .hub(DynamoDbClient.class)
                .scanPaginator(r -> r.tableName(local.config().ledgerTable()))
                .items()
                .forEach(i -> places.add("ledger:" + i));
        for (String q : List.of(
                "patchpilot-config-events", "patchpilot-schedules", "patchpilot-work", "patchpilot-emergency")) {
            for (Message m : LocalFixture.drain(local, q + "-dlq"))
                places.add(q + "-dlq:" + m.body() + m.messageAttributes());
        }
        try (Stream<Path> files = Files.walk(outbox)) {
            for (Path f : files.filter(Files::isRegularFile).toList())
                places.add("outbox:" + Files.readString(f, StandardCharsets.ISO_8859_1));
        }
        assertTrue(places.get(0).contains("Patch Run") || places.get(0).contains("Run "), "the log has the run in it");
        for (String secret : List.of(SlackStub.PATH, MAIL_PASSWORD, EXTERNAL_ID)) {
            for (String place : places) {
                assertFalse(place.contains(secret), "a secret in " + place.substring(0, Math.min(80, place.length())));
            }
        }
        System.out.printf(
                "SECURITY secrets scan: %d places (log %d bytes, API, ledger, DLQs, outbox), 3 secrets, 0 found%n",
                places.size(), places.get(0).length());
    }

    @Test
    void the_web_page_and_api_refuse_remote_access_without_the_token() throws Exception {
        IllegalStateException refused = assertThrows(
                IllegalStateException.class,
                () -> ServiceProcess.start(local, "security-open", Map.of("PATCHPILOT_HTTP_HOST", "0.0.0.0")));
        assertTrue(refused.getMessage().contains("exited"), refused.getMessage());
        String log = Files.readString(Path.of("target", "service-logs", "security-open.log"));
        assertTrue(
                log.contains(
                        "patchpilot.http.token: required when patchpilot.http.host (0.0.0.0) is not a loopback address"),
                log);

        try (ServiceProcess guarded = ServiceProcess.start(
                local, "security-guarded", Map.of("PATCHPILOT_HTTP_HOST", "0.0.0.0", "PATCHPILOT_HTTP_TOKEN", TOKEN))) {
            int port = guarded.httpPort();
            for (String path : List.of("/", "/api/runs", "/api/compliance", "/metrics")) {
                assertEquals(401, get(port, path, null).statusCode(), path + " without a token");
                assertEquals(
                        401, get(port, path, "Bearer not-the-token-at-all").statusCode(), path + " with a wrong token");
                assertEquals(200, get(port, path, "Bearer " + TOKEN).statusCode(), path + " with the token");
            }
            assertEquals(200, get(port, "/health/ready", null).statusCode(), "probes stay open");
            assertFalse(Files.readString(guarded.log()).contains(TOKEN), "the token is not logged");
        }
    }

    // --- helpers --------------------------------------------------------------------------

    private static void putEventFrom(String account, String source, String detailType, String detail) {
        Map<String, String> creds = AwsCli.assumeRole(local.localAws().endpoint(), account, EXTERNAL_ID);
        String entries = "[{\"Source\":\"" + source + "\",\"DetailType\":\"" + detailType + "\",\"Detail\":\""
                + detail.replace("\n", "").replace("\"", "\\\"") + "\"}]";
        assertEquals(
                0,
                AwsCli.json(local.localAws().endpoint(), creds, "events", "put-events", "--entries", entries)
                        .path("FailedEntryCount")
                        .asInt());
    }

    private static List<Instance> instances(String account, String name) {
        return local
                .aws()
                .member(Ec2Client.class, new AccountRegion(account, "us-east-1"), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values(name)))
                .reservations()
                .stream()
                .flatMap(r -> r.instances().stream())
                .toList();
    }

    private static Map<String, String> tags(String account, String id) {
        Map<String, String> t = new TreeMap<>();
        local.aws()
                .member(Ec2Client.class, new AccountRegion(account, "us-east-1"), "test")
                .describeInstances(r -> r.instanceIds(id))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .tags()
                .forEach(x -> t.put(x.key(), x.value()));
        return t;
    }

    private static HttpResponse<String> get(int port, String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) r.header("Authorization", authorization);
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
