package io.patchpilot.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStateTest {
    @TempDir
    Path dir;

    @Test
    void no_state_directory_or_an_empty_one_is_a_fresh_start() {
        assertTrue(LocalState.previousStart(null).isEmpty());
        assertTrue(LocalState.previousStart(dir.resolve("absent")).isEmpty());
        assertTrue(LocalState.previousStart(dir).isEmpty());
    }

    @Test
    void a_finished_start_is_resumed_with_what_it_deployed_and_loaded() {
        LocalStacks.Deployment deployment = new LocalStacks.Deployment(
                "patchpilot-hub",
                Map.of("InventoryBucketName", "inv-1", "ReportsBucketName", "rep-1"),
                "patchpilot-member",
                6,
                Map.of("Alarm", "no CloudWatch locally"),
                Duration.ofSeconds(3));
        FleetLoader.Summary fleet = new FleetLoader.Summary(3, 2, 23, 1);
        LocalState.started(dir, deployment, fleet);

        LocalState.Started resumed = LocalState.previousStart(dir).orElseThrow();
        assertEquals(fleet, resumed.fleet());
        assertEquals(deployment.hubOutputs(), resumed.deployment().hubOutputs());
        assertEquals(deployment.settings(), resumed.deployment().settings());
        assertEquals(6, resumed.deployment().stackInstances());
        assertEquals(deployment.notDeployed(), resumed.deployment().notDeployed());
    }

    @Test
    void a_local_aws_state_without_a_finished_start_is_refused_in_one_line() throws Exception {
        Files.createDirectories(dir.resolve(LocalAws.AWS_STATE));
        ConfigException e = assertThrows(ConfigException.class, () -> LocalState.previousStart(dir));
        assertTrue(e.getMessage().contains("did not finish provisioning"), e.getMessage());
        assertTrue(e.getMessage().contains("delete the directory"), e.getMessage());
    }
}
