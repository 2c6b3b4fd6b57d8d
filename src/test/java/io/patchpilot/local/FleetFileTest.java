package io.patchpilot.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FleetFileTest {
    @TempDir
    Path dir;

    @Test
    void default_fleet_covers_what_the_readme_promises() {
        FleetFile fleet = FleetFile.read(Path.of("config/local/fleet.yaml"));
        assertTrue(fleet.accounts().size() >= 3);
        for (FleetFile.Account a : fleet.accounts())
            assertTrue(a.regions().size() >= 2, a.name() + " spans two regions");
        List<FleetFile.Instance> all = fleet.accounts().stream()
                .flatMap(a -> a.regions().values().stream())
                .flatMap(r -> r.instances().stream())
                .toList();
        assertTrue(all.stream().anyMatch(i -> i.platform() == FleetFile.Platform.Windows));
        assertTrue(all.stream().anyMatch(i -> i.platform() == FleetFile.Platform.Linux));
        for (String env : List.of("Dev", "Test", "Prod")) {
            assertTrue(all.stream().anyMatch(i -> env.equals(i.tags().get("environment"))), env);
        }
        assertTrue(all.stream().anyMatch(i -> !i.tags().containsKey("environment")), "untagged instance");
        assertTrue(all.stream().anyMatch(i -> !i.ssmManaged()), "instance without SSM agent");
        assertTrue(all.stream().anyMatch(i -> hasKeyStarting(i.tags(), "eks:")));
        assertTrue(all.stream().anyMatch(i -> hasKeyStarting(i.tags(), "kubernetes.io/")));
        assertTrue(all.stream().anyMatch(i -> hasKeyStarting(i.tags(), "k8s.io/")));
        assertTrue(all.stream().anyMatch(i -> hasKeyStarting(i.tags(), "alpha.eksctl.io/")));
        assertTrue(all.stream().anyMatch(i -> i.tags().containsKey("AmazonECSManaged")));
        assertTrue(all.stream().anyMatch(i -> i.tags().containsKey("install_patch")));
        assertTrue(all.stream().anyMatch(i -> hasKeyStarting(i.tags(), "patch_install")));
        List<FleetFile.Group> groups = fleet.accounts().stream()
                .flatMap(a -> a.regions().values().stream())
                .flatMap(r -> r.autoScalingGroups().stream())
                .toList();
        assertEquals(2, groups.size());
        assertTrue(groups.stream().anyMatch(g -> g.tags().containsKey("k8s.io/cluster-autoscaler/enabled")));
    }

    private static boolean hasKeyStarting(Map<String, String> tags, String prefix) {
        return tags.keySet().stream().anyMatch(k -> k.toLowerCase().startsWith(prefix));
    }

    @Test
    void unknown_key_names_file_line_and_key() throws IOException {
        Path f = write("""
                accounts:
                  - id: "111111111111"
                    name: dev
                    regions:
                      us-east-1:
                        instances:
                          - name: web
                            platfrom: Linux
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> FleetFile.read(f));
        assertTrue(
                e.getMessage()
                        .startsWith(f + ":8: unknown key 'platfrom' in accounts[0].regions.us-east-1.instances[0]"),
                e.getMessage());
    }

    @Test
    void bad_values_name_file_line_and_key() throws IOException {
        assertError(
                """
                accounts:
                  - id: "111111111111"
                    name: dev
                    regions:
                      us-east-1:
                        instances:
                          - name: web
                            platform: Solaris
                """,
                ":8: accounts[0].regions.us-east-1.instances[0].platform: 'Solaris' is not a valid Platform (allowed: Linux, Windows)");
        assertError("""
                accounts:
                  - id: "12345"
                    name: dev
                """, ":2: accounts[0]: id must be a 12-digit account id");
        assertError(
                """
                accounts:
                  - id: "111111111111"
                    name: dev
                    regions:
                      us-east-1:
                        autoScalingGroups:
                          - name: g
                            desired: 5
                            max: 2
                """,
                ":8: accounts[0].regions.us-east-1.autoScalingGroups[0]: desired needs 0 <= min <= desired <= max");
        assertError("accounts: []\n", ": (top level): accounts must list at least one member account");
    }

    private void assertError(String yaml, String expected) throws IOException {
        Path f = write(yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> FleetFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("fleet.yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
