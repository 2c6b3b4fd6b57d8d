package io.patchpilot.tagging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.errors.PermanentFailure;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigEventsTest {
    private final ConfigEvents events =
            new ConfigEvents(List.of("patch_tags"), new FixedOrganization(Set.of("111111111111")));

    static String event(String account, String detailAccount, String rule, String type, String compliance) {
        return """
                {"version":"0","id":"ev-1","detail-type":"Config Rules Compliance Change","source":"aws.config",
                 "account":"%s","time":"2026-11-27T05:00:00Z","region":"us-east-1","resources":[],
                 "detail":{"resourceId":"i-0abc","awsRegion":"us-east-1","awsAccountId":"%s","configRuleName":"%s",
                   "resourceType":"%s","newEvaluationResult":{"complianceType":"%s"},"messageType":"ComplianceChangeNotification"}}
                """.formatted(account, detailAccount, rule, type, compliance);
    }

    @Test
    void non_compliant_instance_of_our_rule_asks_for_tagging() {
        TagRequest r = events.toTagRequest(
                event("111111111111", "111111111111", "patch_tags", "AWS::EC2::Instance", "NON_COMPLIANT"));
        assertEquals(
                new TagRequest(
                        new AccountRegion("111111111111", "us-east-1"), ResourceKind.INSTANCE, "i-0abc", "event:ev-1"),
                r);
    }

    @Test
    void an_autoscaling_group_named_by_its_arn_as_aws_config_does_is_tagged_by_its_name() {
        String arn = "arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:"
                + "9d8e1f4a-1111-2222-3333-444455556666:autoScalingGroupName/dev-web-asg";
        TagRequest r = events.toTagRequest(event(
                        "111111111111",
                        "111111111111",
                        "patch_tags",
                        "AWS::AutoScaling::AutoScalingGroup",
                        "NON_COMPLIANT")
                .replace("i-0abc", arn));
        assertEquals("dev-web-asg", r.resourceId());
        assertEquals(
                "dev-web-asg",
                ConfigEvents.resourceName(ResourceKind.AUTO_SCALING_GROUP, "dev-web-asg"),
                "a plain name stays as it is");
        assertEquals("i-0abc", ConfigEvents.resourceName(ResourceKind.INSTANCE, "i-0abc"));
    }

    @Test
    void other_events_are_acknowledged_and_counted() {
        assertNull(events.toTagRequest(
                event("111111111111", "111111111111", "other_rule", "AWS::EC2::Instance", "NON_COMPLIANT")));
        assertNull(events.toTagRequest(
                event("111111111111", "111111111111", "patch_tags", "AWS::S3::Bucket", "NON_COMPLIANT")));
        assertNull(events.toTagRequest(
                event("111111111111", "111111111111", "patch_tags", "AWS::EC2::Instance", "COMPLIANT")));
        assertNull(
                events.toTagRequest("{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"detail\":{}}"));
        assertEquals(4, events.ignoredCount());
    }

    @Test
    void bad_input_is_a_permanent_failure_naming_the_problem() {
        assertEquals(
                "body is not JSON: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                assertThrows(PermanentFailure.class, () -> events.toTagRequest("not json"))
                        .getMessage());
        assertEquals(
                "not an EventBridge event: missing 'detail-type' or 'detail'",
                assertThrows(PermanentFailure.class, () -> events.toTagRequest("{\"hello\":1}"))
                        .getMessage());
        assertEquals(
                "detail.awsAccountId 999999999999 is not an active account of the organization",
                assertThrows(
                                PermanentFailure.class,
                                () -> events.toTagRequest(event(
                                        "999999999999",
                                        "999999999999",
                                        "patch_tags",
                                        "AWS::EC2::Instance",
                                        "NON_COMPLIANT")))
                        .getMessage());
        assertEquals(
                "detail.configRuleName is missing",
                assertThrows(
                                PermanentFailure.class,
                                () -> events.toTagRequest(event(
                                                "111111111111",
                                                "111111111111",
                                                "patch_tags",
                                                "AWS::EC2::Instance",
                                                "NON_COMPLIANT")
                                        .replace("\"configRuleName\":\"patch_tags\",", "")))
                        .getMessage());
        assertEquals(
                "detail.awsAccountId 111111111111 differs from the sending account 222222222222",
                assertThrows(
                                PermanentFailure.class,
                                () -> events.toTagRequest(event(
                                        "222222222222",
                                        "111111111111",
                                        "patch_tags",
                                        "AWS::EC2::Instance",
                                        "NON_COMPLIANT")))
                        .getMessage());
    }

    /** Organization membership without AWS: the decision under test is the event's, not the listing's. */
    static final class FixedOrganization extends Organization {
        private final Set<String> members;

        FixedOrganization(Set<String> members) {
            super(null, Clock.systemUTC());
            this.members = members;
        }

        @Override
        public boolean isActiveMember(String account) {
            return members.contains(account);
        }

        @Override
        public Set<String> activeAccounts() {
            return members;
        }
    }
}
