package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Coming from the AWS sample, as an operator does it: a local organization whose member account
 * has the sample's Dev window (every 14 days, Scan, NoReboot, ASGs with an ASG task), its Default
 * window (as patchpilot's organization-wide Default: only disabled) and a Prod
 * window patchpilot cannot map (every 10 days). {@code migrate seed --dry-run} prints the mapping
 * and changes nothing; without it Dev becomes the account's patchpilot window and the sample's Dev
 * window is disabled (kept), Prod is left alone and enabled; a second run changes nothing.
 * Starts local mode: acceptance profile.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeedMigrationIT {
    private static final String OWNER = "111111111111";
    private static final String FLEET = """
            accounts:
              - id: "111111111111"
                name: sample-apps
                regions:
                  us-east-1:
                    instances:
                      - {name: dev-web, tags: {environment: Dev}}
                    seedWindows:
                      - {environment: Dev, schedule: rate(14 days), startDate: "2026-01-09T22:00:00Z", duration: 5,
                         patchingOperation: Scan, operationPostPatching: NoReboot, includeAsg: "Yes",
                         retainHealthyPercentage: "50", refreshAsgInstances: "No"}
                      - {environment: Prod, schedule: rate(10 days), startDate: "2026-01-05T01:00:00Z"}
                      - {environment: Default, schedule: "cron(0 0 5 ? * FRI *)", duration: 6, includeAsg: "Yes",
                         retainHealthyPercentage: "90"}
            """;
    private LocalMode local;
    private Map<String, String> owner;

    @BeforeAll
    void start() throws Exception {
        Path fleet = Files.writeString(Files.createTempDirectory("seed-fleet").resolve("fleet.yaml"), FLEET);
        local = LocalFixture.start(fleet.toString(), Map.of());
        owner = AwsCli.assumeRole(local.localAws().endpoint(), OWNER);
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    /** The sample's windows in the member account: name -> Enabled. */
    private Map<String, Boolean> sampleWindows() {
        JsonNode out = AwsCli.json(local.localAws().endpoint(), owner, "ssm", "describe-maintenance-windows");
        Map<String, Boolean> windows = new TreeMap<>();
        out.path("WindowIdentities")
                .forEach(w ->
                        windows.put(w.path("Name").asText(), w.path("Enabled").asBoolean()));
        return windows;
    }

    @Test
    void the_sample_windows_move_once_and_what_cannot_move_stays() {
        assertEquals(
                Map.of(
                        "Default_maintenance_window",
                        true,
                        "Dev_maintenance_window",
                        true,
                        "Prod_maintenance_window",
                        true),
                sampleWindows());

        InProcessCli.Result dry = InProcessCli.run(local, "migrate", "seed", "--dry-run");
        assertEquals(1, dry.exit(), dry.out() + dry.err()); // one window is left alone
        assertTrue(
                dry.out()
                        .contains("  -> Dev_maintenance_window of " + OWNER
                                + ": every 2 weeks on FRIDAY 22:00 UTC for 5 h (cutoff 1 h), Scan, NoReboot,"
                                + " IncludeASG Yes (RetainHealthyPercentage 50, RefreshASGInstances No)"),
                dry.out());
        assertTrue(dry.out().contains("  would create it and disable mw-"), dry.out());
        assertTrue(
                dry.out()
                        .contains("  left alone: PatchingFrequency: 10 is not a multiple of 7 (7, 14, 21, 28, 35, 42)"),
                dry.out());
        // the sample's Default patches as patchpilot's organization-wide Default: only disabled
        assertTrue(
                dry.out().contains("  would disable mw-")
                        && dry.out()
                                .contains("patchpilot already has Default_maintenance_window for the"
                                        + " organization as mapped"),
                dry.out());
        assertTrue(
                dry.out().contains(": 2 to migrate, 0 already migrated, 1 left alone (dry run: nothing changed)"),
                dry.out());
        assertEquals(
                Map.of(
                        "Default_maintenance_window",
                        true,
                        "Dev_maintenance_window",
                        true,
                        "Prod_maintenance_window",
                        true),
                sampleWindows());
        assertFalse(InProcessCli.run(local, "window", "list").out().contains(OWNER), "a dry run creates no window");

        InProcessCli.Result run = InProcessCli.run(local, "migrate", "seed");
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("  created; disabled mw-"), run.out());
        assertTrue(run.out().contains(": 2 migrated, 0 already migrated, 1 left alone"), run.out());
        assertEquals(
                Map.of(
                        "Default_maintenance_window", false,
                        "Dev_maintenance_window", false,
                        "Prod_maintenance_window", true),
                sampleWindows());
        InProcessCli.Result list = InProcessCli.run(local, "window", "list");
        assertTrue(
                list.out()
                        .lines()
                        .anyMatch(l -> l.startsWith("Dev_maintenance_window")
                                && l.contains(OWNER)
                                && l.contains("every 2 weeks on FRIDAY 22:00 UTC for 5 h (cutoff 1 h)")
                                && l.endsWith("declared by migration")),
                list.out());
        InProcessCli.Result show = InProcessCli.run(local, "window", "show", "Dev", "--account", OWNER);
        assertTrue(show.out().contains("\"AnchorDate\" : \"2026-01-09\""), show.out());
        assertTrue(show.out().contains("\"PatchingOperation\" : \"Scan\""), show.out());

        InProcessCli.Result again = InProcessCli.run(local, "migrate", "seed", "--account", OWNER);
        assertTrue(again.out().contains("  already migrated"), again.out());
        assertTrue(again.out().contains(": 0 migrated, 2 already migrated, 1 left alone"), again.out());
        assertEquals(
                Map.of(
                        "Default_maintenance_window", false,
                        "Dev_maintenance_window", false,
                        "Prod_maintenance_window", true),
                sampleWindows());
        assertEquals(list.out(), InProcessCli.run(local, "window", "list").out());
    }
}
