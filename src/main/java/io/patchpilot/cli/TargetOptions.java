package io.patchpilot.cli;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where an operator command acts: real AWS (profile 'aws'), or a running 'patchpilot local'. */
final class TargetOptions {
    @Option(names = "--local", description = "Act on a running 'patchpilot local' instead of AWS.")
    boolean local;

    @Option(
            names = "--aws-port",
            defaultValue = "${env:PATCHPILOT_AWS_PORT:-4566}",
            description = "With --local: the local AWS port (env PATCHPILOT_AWS_PORT). Default: ${DEFAULT-VALUE}.")
    int awsPort;

    Settings settings() {
        Map<String, String> overrides = new HashMap<>();
        if (local) {
            overrides.put("patchpilot.aws.endpoint", "http://127.0.0.1:" + awsPort);
            overrides.put("patchpilot.aws.sqs-endpoint", "http://127.0.0.1:" + (awsPort + 1));
        }
        return Settings.load(Home.resolve().resolve("config"), local ? "local" : "aws", System.getenv(), overrides);
    }

    PatchpilotConfig config(Settings settings) {
        return PatchpilotConfig.from(settings);
    }

    AwsClients clients(PatchpilotConfig config) {
        return new AwsClients(config);
    }
}
