package io.patchpilot.proof;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.ami.AmiBuild;
import io.patchpilot.ami.AmiNames;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.patching.PatchRuns;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.Json;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.ServiceProcess;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The service killed with SIGKILL in the middle of a patch run, then started again: the run
 * finishes, and no instance receives a second patch command.
 */
class ServiceKillIT {
    @Test
    void a_run_interrupted_by_sigkill_finishes_after_restart_with_no_instance_patched_twice() throws Exception {
        Map<String, String> settings = Map.of(
                "patchpilot.queue.visibility-seconds",
                "5",
                "patchpilot.notify.outbox",
                Files.createTempDirectory("patchpilot-outbox").toString());
        try (LocalMode local = LocalMode.startWithoutService(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", "2", "--config-evaluation", "off"),
                settings))) {
            Ledger ledger = new Ledger(local.aws(), local.config().ledgerTable());
            String schedules = LocalFixture.queueUrl(local, "patchpilot-schedules");
            Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                    .orElseThrow();
            String runId = PatchRuns.runId(MaintenanceWindow.defaultWindow(null), occurrence);

            Map<String, String> env = Map.of("PATCHPILOT_PATCHING_STEP_LEASE_SECONDS", "15");
            ServiceProcess first = ServiceProcess.start(local, "kill-first", env);
            try {
                AwsCli.json(
                        local.localAws().sqsEndpoint(),
                        "sqs",
                        "send-message",
                        "--queue-url",
                        schedules,
                        "--message-body",
                        "{\"type\":\"reconcile\"}");
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> LocalFixture.depth(local, "patchpilot-work") == 0
                                && local.localAws().control().callCount("ec2", "CreateTags") > 0);
                AwsCli.json(
                        local.localAws().sqsEndpoint(),
                        "sqs",
                        "send-message",
                        "--queue-url",
                        schedules,
                        "--message-body",
                        "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence
                                + "\"}");
                // kill as soon as the first commands are out and the run is far from done
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> targetStates(ledger, runId).containsValue("Sent"));
                first.kill();
            } finally {
                first.close();
            }
            Map<String, String> atKill = targetStates(ledger, runId);
            String status = ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                    .orElseThrow()
                    .get("status")
                    .s();
            System.out.printf("killed with run %s and targets %s%n", status, atKill);
            assertTrue(status.equals("Dispatching") || status.equals("Running"), "killed mid-run: " + status);

            try (ServiceProcess second = ServiceProcess.start(local, "kill-second", env)) {
                await().atMost(Duration.ofSeconds(120))
                        .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                                .map(r -> r.get("status").s())
                                .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                                .isPresent());
            }

            // each instance got exactly one patch command of this run, whatever was redelivered
            var ofRun =
                    LocalFixture.commandsOfRun(local, LocalFixture.accountRegions(local, LocalFixture.MEMBERS), runId);
            int commands = ofRun.size();
            Map<String, Integer> commandsPerInstance = LocalFixture.perInstance(ofRun);
            System.out.printf("after restart: %d commands for %d instances%n", commands, commandsPerInstance.size());
            assertTrue(commandsPerInstance.size() >= 15, "the tagged fleet was patched: " + commandsPerInstance);
            assertEquals(
                    Set.of(1),
                    Set.copyOf(commandsPerInstance.values()),
                    "no instance patched twice: " + commandsPerInstance);
            long outcomes = 0;
            for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
                if (!t.get("sk").s().startsWith("TARGET#")) continue;
                assertTrue(Set.of("Done", "Failed").contains(t.get("state").s()), t.toString());
                if (t.containsKey("instances")) {
                    outcomes += Json.read(t.get("instances").s()).findValues("status").stream()
                            .filter(s -> !s.asText().equals("Skipped"))
                            .count();
                }
            }
            assertEquals(commandsPerInstance.size(), outcomes, "every patched instance has its outcome recorded");
            // the AutoScaling group's AMI build went through the kill too: one image, one refresh, nothing left running
            AccountRegion dev = new AccountRegion("111111111111", "us-east-1");
            assertEquals(
                    "Refreshed",
                    ledger.get(RunKeys.pk(runId), AmiBuild.sk(dev, "dev-web-asg"))
                            .orElseThrow()
                            .get("state")
                            .s());
            Ec2Client ec2 = local.aws().member(Ec2Client.class, dev, "test");
            assertEquals(
                    1,
                    ec2.describeImages(r -> r.owners("self")
                                    .filters(f ->
                                            f.name("tag:" + AmiNames.RUN_TAG).values(runId)))
                            .images()
                            .size(),
                    "one patched image");
            assertEquals(
                    0,
                    ec2.describeInstances(r -> r.filters(
                                    f -> f.name("tag-key").values(AmiNames.BUILD_TAG),
                                    f -> f.name("instance-state-name")
                                            .values("pending", "running", "stopping", "stopped")))
                            .reservations()
                            .size(),
                    "no build instance left");
            assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty(), "nothing dead-lettered");
            assertTrue(LocalFixture.drain(local, "patchpilot-schedules-dlq").isEmpty(), "nothing dead-lettered");
            System.out.printf(
                    "FAULTS %-48s in=2 (reconcile, window-fire) dlq=0 leaked=0 (build instances left 0); %d commands for %d instances, "
                            + "each once; 1 image for the group%n",
                    "SIGKILL mid patch run and AMI build:", commands, commandsPerInstance.size());
        }
    }

    private static Map<String, String> targetStates(Ledger ledger, String runId) {
        Map<String, String> states = new HashMap<>();
        for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
            if (t.get("sk").s().startsWith("TARGET#"))
                states.put(
                        t.get("account").s() + "/" + t.get("region").s(),
                        t.get("state").s());
        }
        return states;
    }
}
