package io.patchpilot.cli;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.doctor.Doctor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
            "Check that the deployment is whole, one line per piece (✓ passes, ✗ fails with the fix, – not checked):",
            "credentials and the hub account, the hub stack and its outputs, every queue and its dead letters, and in",
            "every ACTIVE member account × region its stack instance, the execution role assumed with the ExternalId,",
            "the Config rule and the forwarding rule, proven by a test event that must reach the running service",
            "through the hub bus; SMTP and Slack reachable. Read-only but for the test event. Run it with the hub",
            "task role's credentials (the only principal the member role trusts), e.g. through ECS Exec.",
            "Exit 0 when every check passes, 1 otherwise."
        })
final class DoctorCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(
            names = "--ping-timeout",
            defaultValue = "60",
            description = "Seconds to wait for the test events to reach the service. Default: ${DEFAULT-VALUE}.")
    int pingTimeout;

    @Override
    public Integer call() {
        Settings settings = target.settings();
        PatchpilotConfig config = target.config(settings);
        try (AwsClients aws = target.clients(config)) {
            List<Doctor.Check> checks = new Doctor(aws, config, settings, Duration.ofSeconds(pingTimeout), c -> {
                        System.out.println(c.line());
                        System.out.flush();
                    })
                    .run();
            long failed = checks.stream()
                    .filter(c -> c.result() == Doctor.Result.FAIL)
                    .count();
            System.out.println(failed == 0 ? "all checks pass" : failed + " of " + checks.size() + " checks fail");
            return failed == 0 ? ExitCode.OK : ExitCode.FAILED;
        }
    }
}
