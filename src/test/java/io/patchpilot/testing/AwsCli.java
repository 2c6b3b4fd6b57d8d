package io.patchpilot.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the plain AWS CLI (a client none of us wrote) against the local AWS. */
public final class AwsCli {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AwsCli() {}

    public record Result(int exitCode, String stdout, String stderr) {
        public JsonNode json() {
            try {
                return JSON.readTree(stdout);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + stdout + " / " + stderr, e);
            }
        }
    }

    public static Result run(URI endpoint, Map<String, String> credentials, String... args) {
        List<String> cmd = new ArrayList<>(List.of("aws", "--endpoint-url", endpoint.toString(), "--output", "json"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("AWS_ACCESS_KEY_ID", "test");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
        pb.environment().remove("AWS_SESSION_TOKEN");
        pb.environment().remove("AWS_PROFILE");
        pb.environment().put("AWS_DEFAULT_REGION", "us-east-1");
        pb.environment().put("AWS_CONFIG_FILE", "/dev/null");
        pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        pb.environment().putAll(credentials);
        try {
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("aws " + String.join(" ", args) + " did not finish");
            }
            return new Result(
                    p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run the AWS CLI: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static JsonNode json(URI endpoint, String... args) {
        return json(endpoint, Map.of(), args);
    }

    public static JsonNode json(URI endpoint, Map<String, String> credentials, String... args) {
        Result r = run(endpoint, credentials, args);
        if (r.exitCode() != 0) throw new AssertionError("aws " + String.join(" ", args) + " failed: " + r.stderr());
        return r.json();
    }

    /** Environment with credentials of the member role in {@code account}, assumed through the CLI. */
    public static Map<String, String> assumeRole(URI endpoint, String account) {
        return assumeRole(endpoint, account, "local-external-id");
    }

    /** As above, with the ExternalId the member StackSet was deployed with. */
    public static Map<String, String> assumeRole(URI endpoint, String account, String externalId) {
        JsonNode c = json(
                        endpoint,
                        "sts",
                        "assume-role",
                        "--role-arn",
                        "arn:aws:iam::" + account + ":role/PatchpilotExecutionRole",
                        "--role-session-name",
                        "test",
                        "--external-id",
                        externalId)
                .path("Credentials");
        return Map.of(
                "AWS_ACCESS_KEY_ID",
                c.path("AccessKeyId").asText(),
                "AWS_SECRET_ACCESS_KEY",
                c.path("SecretAccessKey").asText(),
                "AWS_SESSION_TOKEN",
                c.path("SessionToken").asText());
    }
}
