package io.patchpilot.acceptance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.icegreen.greenmail.util.GreenMail;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.FleetLoader;
import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ResourceType;

/** Local mode as {@code patchpilot local} starts it: the default fleet, AWS Config evaluating. */
final class LocalTarget implements AcceptanceTarget {
    private final LocalMode local;

    LocalTarget() throws Exception {
        local = LocalMode.start(new LocalMode.Options(
                Path.of("").toAbsolutePath(),
                Path.of("config/local/fleet.yaml"),
                LocalAws.freePortPair(),
                LocalAws.freePort(),
                List.of("--command-delay", "0.3", "--refresh-delay", "0.3"),
                Map.of(
                        "patchpilot.notify.outbox",
                        Files.createTempDirectory("acceptance-outbox").toString())));
    }

    @Override
    public String describe() {
        return "local mode (" + local.localAws().endpoint() + ")";
    }

    @Override
    public AwsClients aws() {
        return local.aws();
    }

    @Override
    public PatchpilotConfig config() {
        return local.config();
    }

    @Override
    public Ledger ledger() {
        return (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
    }

    @Override
    public GreenMail mail() {
        return local.mail();
    }

    @Override
    public String hubStack() {
        return local.deployment().hubStack();
    }

    @Override
    public List<String> memberStacksNotComplete() {
        List<String> out = new ArrayList<>();
        local.aws()
                .hub(CloudFormationClient.class)
                .listStackInstances(r -> r.stackSetName(local.deployment().memberStackSet()))
                .summaries()
                .forEach(i -> {
                    if (!"CURRENT".equals(i.statusAsString()))
                        out.add(i.account() + "/" + i.region() + " " + i.statusAsString());
                });
        assertEquals(
                local.deployment().stackInstances(),
                local.aws()
                        .hub(CloudFormationClient.class)
                        .listStackInstances(
                                r -> r.stackSetName(local.deployment().memberStackSet()))
                        .summaries()
                        .size(),
                "stack instances");
        return out;
    }

    @Override
    public List<AccountRegion> accountRegions() {
        return LocalFixture.accountRegions(local, LocalFixture.MEMBERS);
    }

    @Override
    public Duration patience() {
        return Duration.ofSeconds(90);
    }

    @Override
    public AccountRegion member() {
        return new AccountRegion("222222222222", "eu-west-1");
    }

    @Override
    public String launchUntaggedInstance(String runTag) {
        return local.aws()
                .member(Ec2Client.class, member(), "acceptance")
                .runInstances(r -> r.imageId(FleetLoader.DEFAULT_LINUX_AMI)
                        .minCount(1)
                        .maxCount(1)
                        .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                                .tags(g -> g.key("patchpilot:acceptance").value(runTag))))
                .instances()
                .get(0)
                .instanceId();
    }

    @Override
    public void fireDefaultWindow(Instant at) {
        // the schedule rule the service keeps for the Default window, fired as EventBridge would at that time
        local.localAws()
                .control()
                .post(
                        "events/fire",
                        Map.of(
                                "account",
                                LocalAws.HUB_ACCOUNT,
                                "region",
                                LocalAws.HUB_REGION,
                                "rule",
                                "patchpilot-window-org-default",
                                "time",
                                at.toString()));
    }

    @Override
    public void requestAndApproveEmergency(String requestJson, String requestId) {
        try {
            Path file = Files.writeString(Files.createTempFile("emergency", ".json"), requestJson);
            assertEquals(
                    0,
                    InProcessCli.run(local, "emergency", "start", file.toString(), "--as", "oncall-requester")
                            .exit());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ledger().get(RunKeys.pk(requestId), RunKeys.RUN).isPresent());
        assertEquals(
                0,
                InProcessCli.run(local, "emergency", "approve", requestId, "--as", "oncall-approver")
                        .exit());
    }

    @Override
    public void runReport() {
        assertEquals(0, InProcessCli.run(local, "report", "run").exit());
    }

    @Override
    public void close() {
        local.close();
    }
}
