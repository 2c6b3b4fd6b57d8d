package io.patchpilot.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.aws.AwsActions.Principal;
import io.patchpilot.aws.DeclaredAwsActions;
import io.patchpilot.aws.RouteAwsActions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Least privilege, proven: the IAM actions the code declares ({@code @AwsActions} beside each AWS
 * call, and the routes' aws2 endpoints) are exactly the actions deploy/cloudformation grants to
 * the role that performs them — the ECS task role in the hub (hub.yaml) and the execution role
 * in every member account (member-stackset.yaml). A new AWS call means a new grant here, and a
 * grant nobody uses is an error.
 */
class IamPolicyTest {
    /**
     * Actions a role may hold beyond the code's calls, each with the reason AWS needs it. Empty
     * today: the queues use SQS-managed SSE (no KMS grant), batch calls are authorized as their
     * single-message actions (DeleteMessageBatch = sqs:DeleteMessage, SendMessageBatch =
     * sqs:SendMessage), and what the ECS agent needs (image pull, logs:CreateLogStream,
     * logs:PutLogEvents, the ExternalId secret) is on the separate ECS *execution* role, which this
     * test does not compare.
     */
    private static final Map<String, String> HUB_EXTRA = Map.of();

    private static final Map<String, String> MEMBER_EXTRA = Map.of();

    private final JsonNode hub = Templates.read(Templates.HUB);
    private final JsonNode member = Templates.read(Templates.MEMBER);

    @Test
    void hub_task_role_grants_exactly_what_the_code_and_routes_declare() {
        Map<String, Set<String>> declared =
                new TreeMap<>(DeclaredAwsActions.scan().getOrDefault(Principal.HUB, Map.of()));
        RouteAwsActions.scan(Path.of("routes"))
                .forEach((action, files) -> declared.computeIfAbsent(action, k -> new TreeSet<>())
                        .addAll(files.stream().map(f -> "routes/" + f).toList()));
        String taskRole = taskRoleOf(hub);
        compare("hub.yaml role " + taskRole + " (ECS task role)", declared, granted(hub, taskRole), HUB_EXTRA);
    }

    @Test
    void member_execution_role_grants_exactly_what_the_code_declares() {
        Map<String, Set<String>> declared = DeclaredAwsActions.scan().getOrDefault(Principal.MEMBER, Map.of());
        compare(
                "member-stackset.yaml role " + executionRoleOf(member),
                declared,
                granted(member, executionRoleOf(member)),
                MEMBER_EXTRA);
    }

    @Test
    void ecs_execution_role_is_not_the_task_role() {
        JsonNode task = Templates.resources(hub, "AWS::ECS::TaskDefinition")
                .values()
                .iterator()
                .next()
                .path("Properties");
        assertNotEquals(
                Templates.getAttTarget(task.path("ExecutionRoleArn")),
                Templates.getAttTarget(task.path("TaskRoleArn")),
                "the ECS agent's permissions (image pull, logs, secret) must not be the service's");
    }

    @Test
    void no_wildcard_action_is_allowed_anywhere() {
        List<String> problems = new ArrayList<>();
        for (Path t : Templates.all()) {
            Templates.statements(Templates.read(t), s -> {
                List<String> actions = Templates.actions(s);
                boolean wildcard = actions.stream().anyMatch(a -> a.contains("*"));
                String sid = s.path("Sid").asText("(no Sid)");
                if (s.has("NotAction") && s.path("Effect").asText().equals("Allow")) {
                    problems.add(t.getFileName() + " " + sid + ": Allow with NotAction");
                }
                if (!wildcard) return;
                // A Deny grants nothing; "deny every request that is not TLS" is the one place a
                // service wildcard (s3:*, sqs:*) belongs.
                boolean tlsDeny = s.path("Effect").asText().equals("Deny")
                        && s.path("Condition")
                                .path("Bool")
                                .path("aws:SecureTransport")
                                .asText()
                                .equals("false");
                if (!tlsDeny) problems.add(t.getFileName() + " " + sid + ": " + actions);
            });
        }
        assertTrue(problems.isEmpty(), "wildcard actions (\"*\", \"svc:*\", \"svc:Get*\") granted: " + problems);
    }

    @Test
    void member_role_trusts_only_the_hub_task_role_with_external_id_inside_the_organization() {
        JsonNode role = member.path("Resources").path(executionRoleOf(member)).path("Properties");
        JsonNode trust = role.path("AssumeRolePolicyDocument").path("Statement");
        assertEquals(1, trust.size(), trust.toString());
        JsonNode s = trust.get(0);
        assertEquals("Allow", s.path("Effect").asText());
        assertEquals(
                "HubTaskRoleArn",
                s.path("Principal").path("AWS").asText(),
                "trusted principal: " + s.path("Principal"));
        JsonNode eq = s.path("Condition").path("StringEquals");
        assertEquals("ExternalId", eq.path("sts:ExternalId").asText(), s.toString());
        assertEquals("OrganizationId", eq.path("aws:PrincipalOrgID").asText(), s.toString());
        assertTrue(
                member.path("Parameters").path("ExternalId").path("NoEcho").asBoolean(), "ExternalId must be NoEcho");
    }

    @Test
    void member_tag_writes_are_limited_to_the_patch_tag_keys() {
        Set<String> tagWrites = Set.of("ec2:CreateTags", "autoscaling:CreateOrUpdateTags");
        List<JsonNode> statements = Templates.allowStatementsOfRole(member, executionRoleOf(member)).stream()
                .filter(s -> Templates.actions(s).stream().anyMatch(tagWrites::contains))
                .filter(s -> s.path("Condition")
                        .path("StringEquals")
                        .path("ec2:CreateAction")
                        .isMissingNode())
                .toList();
        assertFalse(statements.isEmpty());
        for (JsonNode s : statements) {
            assertTrue(
                    Templates.actions(s).stream().allMatch(tagWrites::contains),
                    "keep tag writes in their own statement: " + s);
            JsonNode keys =
                    s.path("Condition").path("ForAllValues:StringEquals").path("aws:TagKeys");
            Set<String> allowed = new TreeSet<>();
            keys.forEach(k -> allowed.add(k.asText()));
            assertEquals(Set.of("environment", "maintenance_window", "PatchGroupTagKey"), allowed, s.toString());
            assertEquals(
                    "false",
                    s.path("Condition").path("Null").path("aws:TagKeys").asText(),
                    "a write without tags is no patch tag: " + s);
            assertFalse(
                    s.path("Resource").asText().equals("*"),
                    "tag writes are scoped to this account's instances/groups: " + s);
        }
    }

    @Test
    void member_tags_on_create_are_limited_to_creations_and_patchpilot_keys() {
        List<JsonNode> onCreate = Templates.allowStatementsOfRole(member, executionRoleOf(member)).stream()
                .filter(s -> Templates.actions(s).contains("ec2:CreateTags"))
                .filter(s -> !s.path("Condition")
                        .path("StringEquals")
                        .path("ec2:CreateAction")
                        .isMissingNode())
                .toList();
        assertFalse(onCreate.isEmpty(), "the AMI build tags its instance and image as it creates them");
        for (JsonNode s : onCreate) {
            assertEquals(List.of("ec2:CreateTags"), Templates.actions(s), s.toString());
            Set<String> actions = new TreeSet<>();
            s.path("Condition").path("StringEquals").path("ec2:CreateAction").forEach(a -> actions.add(a.asText()));
            assertEquals(Set.of("RunInstances", "CreateImage"), actions, s.toString());
            Set<String> keys = new TreeSet<>();
            s.path("Condition")
                    .path("ForAllValues:StringEquals")
                    .path("aws:TagKeys")
                    .forEach(k -> keys.add(k.asText()));
            assertTrue(
                    keys.stream()
                            .allMatch(k -> k.startsWith("patchpilot:")
                                    || Set.of("Name", "environment", "maintenance_window", "PatchGroupTagKey")
                                            .contains(k)),
                    keys.toString());
        }
    }

    // ------------------------------------------------------------------------------------------

    private static void compare(
            String role, Map<String, Set<String>> declared, Set<String> granted, Map<String, String> extra) {
        Set<String> missing = new TreeSet<>(declared.keySet());
        missing.removeAll(granted);
        Set<String> unused = new TreeSet<>(granted);
        unused.removeAll(declared.keySet());
        unused.removeAll(extra.keySet());
        String declaredList = declared.entrySet().stream()
                .map(e -> "  " + e.getKey() + "  <- " + String.join(", ", e.getValue()))
                .collect(Collectors.joining("\n"));
        String help = "\n" + role + "\n  declared by the code (action <- call sites):\n" + declaredList
                + "\n  granted: " + granted + "\n  allowed extras: " + extra.keySet();
        assertTrue(missing.isEmpty(), "declared but not granted (add to the template): " + missing + help);
        assertTrue(
                unused.isEmpty(),
                "granted but declared nowhere (remove, or declare with @AwsActions, "
                        + "or list in the test's allowlist with the reason): " + unused + help);
    }

    private static Set<String> granted(JsonNode template, String roleId) {
        Set<String> out = new TreeSet<>();
        Templates.allowStatementsOfRole(template, roleId).forEach(s -> out.addAll(Templates.actions(s)));
        return out;
    }

    /** The role the ECS task definition runs the service as (TaskRoleArn: !GetAtt X.Arn). */
    private static String taskRoleOf(JsonNode hub) {
        Map<String, JsonNode> defs = Templates.resources(hub, "AWS::ECS::TaskDefinition");
        assertEquals(1, defs.size(), "one task definition: " + defs.keySet());
        return Templates.getAttTarget(
                defs.values().iterator().next().path("Properties").path("TaskRoleArn"));
    }

    /** The member role named by the ExecutionRoleName parameter (the role the hub assumes). */
    private static String executionRoleOf(JsonNode member) {
        List<String> ids = Templates.resources(member, "AWS::IAM::Role").entrySet().stream()
                .filter(e -> e.getValue()
                        .path("Properties")
                        .path("RoleName")
                        .asText()
                        .equals("ExecutionRoleName"))
                .map(Map.Entry::getKey)
                .toList();
        assertEquals(1, ids.size(), "one role with RoleName !Ref ExecutionRoleName: " + ids);
        return ids.get(0);
    }
}
