package io.patchpilot.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.testing.AwsCli;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Tag;

/** Local mode as a newcomer meets it: the default fleet in a local AWS and the service healthy. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalModeIT {
    private LocalMode local;
    private int httpPort;
    private List<Long> pids;

    @BeforeAll
    void start() throws Exception {
        httpPort = LocalAws.freePort();
        local = LocalMode.start(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                httpPort,
                List.of("--command-delay", "0.2"),
                Map.of()));
        pids = local.localAws().pids();
    }

    @AfterAll
    void stop() {
        local.close();
        for (long pid : pids) {
            assertFalse(
                    ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "process " + pid + " left running");
        }
    }

    @Test
    void health_answers_200_when_routes_and_queues_are_up() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("UP"));
    }

    @Test
    void aws_cli_lists_every_contract_queue_and_its_dlq() {
        JsonNode queues = AwsCli.json(local.localAws().sqsEndpoint(), "sqs", "list-queues");
        Set<String> names = new HashSet<>();
        queues.path("QueueUrls")
                .forEach(u -> names.add(u.asText().substring(u.asText().lastIndexOf('/') + 1)));
        for (String q : List.of(
                "patchpilot-config-events",
                "patchpilot-schedules",
                "patchpilot-self-service",
                "patchpilot-emergency",
                "patchpilot-approvals",
                "patchpilot-work")) {
            assertTrue(names.contains(q), q + " in " + names);
            assertTrue(names.contains(PatchpilotConfig.Queues.deadLetterQueueOf(q)), q + "-dlq in " + names);
        }
    }

    @Test
    void aws_cli_lists_the_fleet_accounts_in_the_organization() {
        JsonNode accounts = AwsCli.json(local.localAws().endpoint(), "organizations", "list-accounts");
        Set<String> ids = new HashSet<>();
        accounts.path("Accounts").forEach(a -> ids.add(a.path("Id").asText()));
        assertTrue(ids.containsAll(List.of("111111111111", "222222222222", "333333333333")), ids.toString());
    }

    @Test
    void assumed_credentials_for_an_account_see_only_that_accounts_instances() {
        Set<String> devApps = instanceNames(new AccountRegion("111111111111", "us-east-1"));
        Set<String> payments = instanceNames(new AccountRegion("222222222222", "us-east-1"));
        assertTrue(devApps.contains("dev-web") && devApps.contains("opted-out"), devApps.toString());
        assertTrue(payments.contains("prod-api") && payments.contains("prod-win-db"), payments.toString());
        assertTrue(devApps.stream().noneMatch(payments::contains), "no instance visible from both accounts");
        assertTrue(instanceNames(new AccountRegion("111111111111", "eu-west-1")).contains("dev-eu-web"));
        assertFalse(
                instanceNames(new AccountRegion("111111111111", "eu-west-1")).contains("dev-web"),
                "regions are separate too");
    }

    @Test
    void fleet_summary_counts_what_was_created() {
        assertEquals(3, local.fleet().accounts());
        assertEquals(2, local.fleet().regions());
        assertEquals(2, local.fleet().groups());
        assertTrue(
                local.fleet().instances() >= 25, "instances: " + local.fleet().instances());
    }

    private Set<String> instanceNames(AccountRegion target) {
        Ec2Client ec2 = local.aws().member(Ec2Client.class, target, "test");
        Set<String> names = new HashSet<>();
        for (Reservation r : ec2.describeInstances().reservations()) {
            for (Instance i : r.instances()) {
                i.tags().stream()
                        .filter(t -> t.key().equals("Name"))
                        .map(Tag::value)
                        .forEach(names::add);
            }
        }
        return names;
    }
}
