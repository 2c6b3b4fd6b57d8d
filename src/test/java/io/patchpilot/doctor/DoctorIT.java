package io.patchpilot.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.iam.IamClient;

/** patchpilot doctor on a fresh local mode passes, then names each piece broken on purpose. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DoctorIT {
    private LocalMode local;

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of());
    }

    @AfterAll
    void stop() {
        if (local != null) local.close();
    }

    @Test
    @Order(1)
    void every_check_passes_on_a_fresh_local_mode() {
        InProcessCli.Result r = InProcessCli.run(local, "doctor", "--ping-timeout", "60");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("✓ hub stack patchpilot-hub: CREATE_COMPLETE"), r.out());
        for (String account : LocalFixture.MEMBERS) {
            for (String region : local.config().regions()) {
                String t = account + "/" + region;
                for (String piece : new String[] {"stack instance", "execution role", "Config rule"})
                    assertTrue(r.out().contains("✓ " + t + " " + piece), t + " " + piece + ":\n" + r.out());
                assertTrue(
                        r.out()
                                .contains("✓ " + t
                                        + " forwarding rule: test event reached the service through the hub bus"),
                        t + ":\n" + r.out());
            }
        }
        assertTrue(r.out().endsWith("all checks pass\n"), r.out());
    }

    @Test
    @Order(2)
    void a_deleted_config_rule_and_a_deleted_member_role_are_each_named_with_the_fix() {
        local.aws()
                .member(ConfigClient.class, new AccountRegion("222222222222", "eu-west-1"), "test")
                .deleteConfigRule(r -> r.configRuleName("patch_tags"));
        IamClient iam = local.aws().member(IamClient.class, new AccountRegion("333333333333", "aws-global"), "test");
        String role = local.config().member().roleName();
        iam.listRolePolicies(r -> r.roleName(role))
                .policyNames()
                .forEach(p -> iam.deleteRolePolicy(r -> r.roleName(role).policyName(p)));
        iam.listAttachedRolePolicies(r -> r.roleName(role))
                .attachedPolicies()
                .forEach(p -> iam.detachRolePolicy(r -> r.roleName(role).policyArn(p.policyArn())));
        iam.deleteRole(r -> r.roleName(role));

        InProcessCli.Result r = InProcessCli.run(local, "doctor", "--ping-timeout", "60");
        assertEquals(1, r.exit(), r.out());
        assertTrue(
                r.out()
                        .contains(
                                "✗ 222222222222/eu-west-1 Config rule: missing [patch_tags]  → the member StackSet makes it"),
                r.out());
        assertTrue(r.out().contains("✓ 222222222222/us-east-1 Config rule"), "the other region is fine:\n" + r.out());
        for (String region : local.config().regions()) {
            assertTrue(
                    r.out().contains("✗ 333333333333/" + region + " execution role: ")
                            && r.out()
                                    .contains(
                                            "arn:aws:iam::333333333333:role/" + role + " trusting the hub's task role"),
                    r.out());
        }
        assertTrue(r.out().contains("✓ 111111111111/us-east-1 execution role"), r.out());
    }
}
