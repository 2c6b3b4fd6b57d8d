package io.patchpilot.windows;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Windows as code, as an account owner does it: an SSM parameter /patchpilot/windows/Dev put in
 * the member account gives that account a Dev window (its instances re-tagged, the parameter
 * tagged Applied); a bad overwrite is Rejected with its reason and changes nothing; the CLI
 * refuses to change the parameter's window; deleting the parameter deletes the window. Starts
 * local mode: acceptance profile.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WindowParameterIT {
    private static final String OWNER = "111111111111";
    private static final String NAME = "/patchpilot/windows/Dev";
    private LocalMode local;
    private Map<String, String> owner;

    @TempDir
    Path dir;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
        owner = AwsCli.assumeRole(local.localAws().endpoint(), OWNER);
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    private JsonNode ssm(String... args) {
        List<String> all = new ArrayList<>(List.of("ssm"));
        all.addAll(List.of(args));
        return AwsCli.json(local.localAws().endpoint(), owner, all.toArray(String[]::new));
    }

    private Map<String, String> parameterTags() {
        Map<String, String> tags = new HashMap<>();
        ssm("list-tags-for-resource", "--resource-type", "Parameter", "--resource-id", NAME)
                .path("TagList")
                .forEach(t -> tags.put(t.path("Key").asText(), t.path("Value").asText()));
        return tags;
    }

    private String windowTagOf(String instanceName) {
        return local
                .aws()
                .member(Ec2Client.class, new AccountRegion(OWNER, "us-east-1"), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values(instanceName)))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .tags()
                .stream()
                .filter(t -> t.key().equals("maintenance_window"))
                .map(t -> t.value())
                .findFirst()
                .orElse("");
    }

    @Test
    void a_parameter_declares_the_window_and_deleting_it_removes_the_window() throws Exception {
        ssm(
                "put-parameter",
                "--name",
                NAME,
                "--type",
                "String",
                "--value",
                "{\"PatchingWindowWeekday\":\"Saturday\",\"PatchingWindowStartTime\":22}");

        // applied within 60 s: the owner's Dev instances carry the account's Dev window, the parameter says so
        await().atMost(Duration.ofSeconds(60))
                .until(() -> windowTagOf("dev-web").equals("Dev_maintenance_window"));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> "Applied".equals(parameterTags().get("patchpilot:status")));
        Map<String, String> applied = parameterTags();
        assertEquals("1", applied.get("patchpilot:version"), applied.toString());
        assertEquals("applied as Dev_maintenance_window", applied.get("patchpilot:reason"));
        Instant next = Instant.parse(applied.get("patchpilot:next-start"));
        assertEquals("SATURDAY", next.atZone(ZoneOffset.UTC).getDayOfWeek().name());
        assertEquals(22, next.atZone(ZoneOffset.UTC).getHour());

        InProcessCli.Result show = InProcessCli.run(local, "window", "show", "Dev", "--account", OWNER);
        assertTrue(show.out().contains("\"PatchingWindowWeekday\" : \"SATURDAY\""), show.out());
        assertTrue(
                show.out().contains("\"DeclaredBy\" : \"parameter " + NAME + " (us-east-1, version 1)\""), show.out());
        InProcessCli.Result list = InProcessCli.run(local, "window", "list");
        assertTrue(
                list.out()
                        .lines()
                        .anyMatch(l -> l.startsWith("Dev_maintenance_window")
                                && l.contains(OWNER)
                                && l.endsWith("declared by parameter " + NAME + " (us-east-1, version 1)")),
                list.out());

        // the parameter wins: the central team's CLI refuses, naming the parameter
        Path file = dir.resolve("dev.json");
        Files.writeString(file, "{\"Environment\":\"Dev\",\"PatchingWindowWeekday\":\"Monday\"}");
        InProcessCli.Result refused = InProcessCli.run(local, "window", "update", file.toString(), "--account", OWNER);
        assertEquals(3, refused.exit());
        assertEquals(
                "patchpilot: Dev_maintenance_window of " + OWNER + " is declared by the SSM parameter " + NAME
                        + " in that account (us-east-1); change or delete the parameter there",
                refused.err().strip());

        // a bad overwrite: Rejected with its reason, the window applied before stays in force
        ssm("put-parameter", "--name", NAME, "--overwrite", "--value", "{\"PatchingWindowStartTime\":25}");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> "Rejected".equals(parameterTags().get("patchpilot:status")));
        Map<String, String> rejected = parameterTags();
        assertEquals("version 2: PatchingWindowStartTime: 25 is outside 0-23", rejected.get("patchpilot:reason"));
        assertEquals("1", rejected.get("patchpilot:version"), "the version applied is still 1");
        List<Message> dead = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> dead.addAll(LocalFixture.drain(local, "patchpilot-self-service-dlq")));
        assertEquals(
                "parameter " + NAME + " of " + OWNER
                        + " in us-east-1 version 2: PatchingWindowStartTime: 25 is outside 0-23",
                dead.get(0).messageAttributes().get("patchpilot-error").stringValue());
        assertTrue(
                InProcessCli.run(local, "window", "show", "Dev", "--account", OWNER)
                        .out()
                        .contains("\"PatchingWindowStartTime\" : 22"),
                "the window last applied stays");

        // deleted: the window is gone and the instances return to the Default window
        ssm("delete-parameter", "--name", NAME);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> windowTagOf("dev-web").equals("Default_maintenance_window"));
        assertEquals(
                3,
                InProcessCli.run(local, "window", "show", "Dev", "--account", OWNER)
                        .exit());
    }

    @Test
    void the_reconcile_sweep_applies_a_parameter_whose_event_was_lost() {
        String name = "/patchpilot/windows/Test";
        // the event is lost: the member's forwarding rule is off while the parameter is put
        JsonNode off = AwsCli.json(
                local.localAws().endpoint(), owner, "events", "disable-rule", "--name", "patchpilot-forward-to-hub");
        assertTrue(off.isMissingNode() || off.isObject(), String.valueOf(off));
        try {
            ssm(
                    "put-parameter",
                    "--name",
                    name,
                    "--type",
                    "String",
                    "--value",
                    "{\"PatchingWindowWeekday\":\"Monday\"}");
        } finally {
            AwsCli.json(
                    local.localAws().endpoint(), owner, "events", "enable-rule", "--name", "patchpilot-forward-to-hub");
        }
        // no event, no window: it stays absent until the sweep
        await().during(Duration.ofSeconds(5))
                .atMost(Duration.ofSeconds(7))
                .until(() -> InProcessCli.run(local, "window", "show", "Test", "--account", OWNER)
                                .exit()
                        == 3);

        InProcessCli.Result sweep = InProcessCli.run(local, "tags", "reconcile", "--follow");
        assertEquals(0, sweep.exit(), sweep.out() + sweep.err());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> windowTagOf("test-api").equals("Test_maintenance_window"));
        InProcessCli.Result show = InProcessCli.run(local, "window", "show", "Test", "--account", OWNER);
        assertTrue(
                show.out().contains("\"DeclaredBy\" : \"parameter " + name + " (us-east-1, version 1)\""), show.out());
        ssm("delete-parameter", "--name", name);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> InProcessCli.run(local, "window", "show", "Test", "--account", OWNER)
                                .exit()
                        == 3);
    }
}
