package io.patchpilot.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    private static final Path CONFIG = Path.of("config");

    private static Map<String, String> awsEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("PATCHPILOT_EXTERNAL_ID", "ext-1234");
        env.put("PATCHPILOT_INVENTORY_BUCKET", "inv-bucket");
        env.put("PATCHPILOT_REPORTS_BUCKET", "reports-bucket");
        env.put("PATCHPILOT_LOGS_BUCKET", "logs-bucket");
        env.put("PATCHPILOT_ATHENA_RESULTS_BUCKET", "athena-bucket");
        return env;
    }

    @Test
    void aws_profile_loads_with_the_deployment_environment() {
        PatchpilotConfig c = PatchpilotConfig.from(Settings.load(CONFIG, "aws", awsEnv(), Map.of()));
        assertEquals("inv-bucket", c.buckets().inventory());
        assertEquals("patchpilot-config-events", c.queues().configEvents());
        assertEquals(6, c.queues().all().size());
        assertFalse(c.local());
    }

    @Test
    void missing_environment_variable_names_the_key_and_the_variable() {
        Map<String, String> env = awsEnv();
        env.remove("PATCHPILOT_EXTERNAL_ID");
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.load(CONFIG, "aws", env, Map.of()));
        assertEquals(
                "patchpilot.member.external-id: environment variable PATCHPILOT_EXTERNAL_ID is not set",
                e.getMessage());
    }

    @Test
    void any_key_can_be_overridden_by_its_environment_variable() {
        Map<String, String> env = awsEnv();
        env.put("PATCHPILOT_REGIONS", "eu-central-1, ap-southeast-2");
        PatchpilotConfig c = PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of()));
        assertEquals(List.of("eu-central-1", "ap-southeast-2"), c.regions());
    }

    @Test
    void invalid_values_are_one_line_naming_the_key() {
        Map<String, String> env = awsEnv();
        env.put("PATCHPILOT_HTTP_PORT", "eighty");
        ConfigException e = assertThrows(
                ConfigException.class, () -> PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of())));
        assertEquals("patchpilot.http.port: 'eighty' is not a whole number", e.getMessage());

        env.put("PATCHPILOT_HTTP_PORT", "8080");
        env.put("PATCHPILOT_REGIONS", "us-east-1,mars-north-1x");
        e = assertThrows(
                ConfigException.class, () -> PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of())));
        assertEquals("patchpilot.regions: 'mars-north-1x' is not an AWS region name", e.getMessage());

        env.put("PATCHPILOT_REGIONS", "us-east-1");
        env.put("PATCHPILOT_ENVIRONMENTS", "Dev,All");
        e = assertThrows(
                ConfigException.class, () -> PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of())));
        assertEquals("patchpilot.environments: 'All' is reserved", e.getMessage());
    }

    @Test
    void the_retry_mode_is_standard_unless_set_to_adaptive() {
        Map<String, String> env = awsEnv();
        assertFalse(PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of()))
                .endpoints()
                .adaptiveRetries());
        env.put("PATCHPILOT_AWS_RETRY_MODE", "adaptive");
        assertTrue(PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of()))
                .endpoints()
                .adaptiveRetries());
        env.put("PATCHPILOT_AWS_RETRY_MODE", "legacy");
        ConfigException e = assertThrows(
                ConfigException.class, () -> PatchpilotConfig.from(Settings.load(CONFIG, "aws", env, Map.of())));
        assertEquals("patchpilot.aws.retry-mode: 'legacy' is not standard or adaptive", e.getMessage());
    }

    @Test
    void a_blank_required_key_is_reported_as_missing() {
        Settings s = Settings.of("aws", Map.of("patchpilot.hub.region", ""));
        ConfigException e = assertThrows(ConfigException.class, () -> s.require("patchpilot.hub.region"));
        assertTrue(e.getMessage().startsWith("patchpilot.hub.region: missing"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void secrets_are_never_shown() {
        Settings s = Settings.load(CONFIG, "aws", awsEnv(), Map.of());
        assertFalse(s.toString().contains("ext-1234"));
        assertFalse(s.nonSecretProperties().containsValue("ext-1234"));
        assertFalse(PatchpilotConfig.from(s).toString().contains("ext-1234"));
    }

    @Test
    void local_profile_needs_no_environment() {
        PatchpilotConfig c = PatchpilotConfig.from(
                Settings.load(CONFIG, "local", Map.of(), Map.of("patchpilot.aws.endpoint", "http://127.0.0.1:4566")));
        assertTrue(c.local());
        assertEquals("123456789012", c.hub().accountId().orElseThrow());
    }
}
