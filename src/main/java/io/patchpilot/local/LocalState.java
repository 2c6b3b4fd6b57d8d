package io.patchpilot.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What local mode keeps in its state directory beside the local AWS's own state: that a start
 * finished provisioning, with what it deployed and loaded, so that the next start resumes it
 * instead of deploying the stacks and launching the fleet a second time.
 */
final class LocalState {
    static final String FILE = "local-mode.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LocalState() {}

    /** A finished start's deployment and fleet, as the next start resumes them. */
    record Started(LocalStacks.Deployment deployment, FleetLoader.Summary fleet) {}

    /**
     * The previous start kept in {@code stateDir}, if one finished there; fails with one line when
     * the directory holds a local AWS state from a start that did not finish provisioning.
     */
    static Optional<Started> previousStart(Path stateDir) {
        if (stateDir == null) return Optional.empty();
        Path file = stateDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            if (Files.exists(stateDir.resolve(LocalAws.AWS_STATE))
                    || Files.exists(stateDir.resolve(LocalAws.SQS_STATE)))
                throw new ConfigException(stateDir + ": holds the state of a start that did not finish provisioning;"
                        + " delete the directory to start afresh");
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            JsonNode d = n.path("deployment");
            JsonNode f = n.path("fleet");
            return Optional.of(new Started(
                    new LocalStacks.Deployment(
                            d.path("hubStack").asText(),
                            strings(d.path("hubOutputs")),
                            d.path("memberStackSet").asText(),
                            d.path("stackInstances").asInt(),
                            strings(d.path("notDeployed")),
                            Duration.ZERO),
                    new FleetLoader.Summary(
                            f.path("accounts").asInt(),
                            f.path("regions").asInt(),
                            f.path("instances").asInt(),
                            f.path("groups").asInt())));
        } catch (IOException e) {
            throw new ConfigException(
                    file + ": cannot read (" + e.getMessage() + "); delete " + stateDir + " to start afresh");
        }
    }

    /** Records that a start finished provisioning (written last, so a half-done start is never resumed). */
    static void started(Path stateDir, LocalStacks.Deployment deployment, FleetLoader.Summary fleet) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode d = n.putObject("deployment");
        d.put("hubStack", deployment.hubStack());
        d.set("hubOutputs", JSON.valueToTree(deployment.hubOutputs()));
        d.put("memberStackSet", deployment.memberStackSet());
        d.put("stackInstances", deployment.stackInstances());
        d.set("notDeployed", JSON.valueToTree(deployment.notDeployed()));
        ObjectNode f = n.putObject("fleet");
        f.put("accounts", fleet.accounts());
        f.put("regions", fleet.regions());
        f.put("instances", fleet.instances());
        f.put("groups", fleet.groups());
        try {
            Files.createDirectories(stateDir);
            Path tmp = stateDir.resolve(FILE + ".tmp");
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), n);
            Files.move(
                    tmp, stateDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ConfigException(stateDir + ": cannot write " + FILE + " (" + e.getMessage() + ")");
        }
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
