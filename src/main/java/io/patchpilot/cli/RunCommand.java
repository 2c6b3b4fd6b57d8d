package io.patchpilot.cli;

import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.service.PatchpilotService;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Run the service against real AWS (default credential chain; names from config/, profile 'aws').")
final class RunCommand implements Callable<Integer> {
    @Option(
            names = "--profile",
            defaultValue = "aws",
            description = "Configuration profile (config/application-<profile>.properties). Default: ${DEFAULT-VALUE}.")
    String profile;

    @Override
    public Integer call() throws Exception {
        Path home = Home.resolve();
        Settings settings = Settings.load(home.resolve("config"), profile, System.getenv(), Map.of());
        PatchpilotConfig config = PatchpilotConfig.from(settings);
        ServiceRunner runner = new ServiceRunner();
        try {
            AwsClients aws = runner.open(new AwsClients(config));
            PatchpilotService service = runner.open(new PatchpilotService(home, settings, config, aws, Map.of()));
            service.start();
        } catch (Exception e) {
            runner.closeAll();
            throw e;
        }
        System.out.println("patchpilot is up: http://" + config.http().host() + ":"
                + config.http().port() + "/health");
        return runner.awaitShutdown();
    }
}
