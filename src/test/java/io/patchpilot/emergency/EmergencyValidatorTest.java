package io.patchpilot.emergency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.local.LocalMode;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EmergencyValidatorTest {
    private static final EmergencyValidator V = new EmergencyValidator(
            List.of("Dev", "Test", "Prod"),
            List.of("us-east-1", "eu-west-1"),
            Set.of("patchpilot-override-lists-123456789012-us-east-1"),
            16_384,
            account -> Set.of("111111111111", "222222222222").contains(account),
            url -> url.equals(
                    "s3://patchpilot-override-lists-123456789012-us-east-1/" + LocalMode.SAMPLE_OVERRIDE_LIST + ""));

    /** The seed's sample payload, with our request id. */
    static final String SEED =
            "{\"requestId\":\"chg-4711\",\"env\":\"Default\",\"include_asg\":\"Yes\",\"retain_healthy_percentage\":90,"
                    + "\"refresh_asg_instances\":\"Yes\",\"patching_operation\":\"Install\",\"operation_post_patching\":\"RebootIfNeeded\","
                    + "\"run_patch_baseline_install_override_list\":\"\",\"accounts\":[],\"regions\":[],\"reason\":\"CVE-2026-12345\"}";

    @Test
    void the_seed_payload_is_a_valid_request_for_every_account_and_region() {
        EmergencyRequest r = V.validate(SEED);
        assertEquals("chg-4711", r.requestId());
        assertEquals("Default", r.env());
        assertEquals(true, r.includeAsg());
        assertEquals(90, r.retainHealthyPercentage());
        assertEquals("Install", r.operation());
        assertEquals("RebootIfNeeded", r.postPatchOperation());
        assertEquals("", r.installOverrideList());
        assertEquals(List.of(), r.accounts());
        assertEquals("10%", r.maxConcurrency());
    }

    @Test
    void choices_are_case_insensitive_numbers_may_be_strings_and_duplicates_collapse() {
        EmergencyRequest r = V.validate(
                "{\"requestId\":\"INC-1\",\"env\":\"prod\",\"patching_operation\":\"scan\",\"retain_healthy_percentage\":\"75\","
                        + "\"accounts\":[\"111111111111\",\"111111111111\"],\"regions\":[\"eu-west-1\"],\"max_concurrency\":\"5\",\"max_errors\":\"0\"}");
        assertEquals("Prod", r.env());
        assertEquals("Scan", r.operation());
        assertEquals(75, r.retainHealthyPercentage());
        assertEquals(List.of("111111111111"), r.accounts());
        assertEquals("0", r.maxErrors());
    }

    @Test
    void an_existing_override_list_in_an_allowed_bucket_is_kept() {
        assertEquals(
                "s3://patchpilot-override-lists-123456789012-us-east-1/" + LocalMode.SAMPLE_OVERRIDE_LIST + "",
                V.validate("{\"requestId\":\"c\",\"env\":\"All\","
                                + "\"run_patch_baseline_install_override_list\":\"s3://patchpilot-override-lists-123456789012-us-east-1/"
                                + LocalMode.SAMPLE_OVERRIDE_LIST + "\"}")
                        .installOverrideList());
    }

    private static String with(String field, String json) {
        return "{\"requestId\":\"chg-1\",\"env\":\"Dev\",\"" + field + "\":" + json + "}";
    }

    /** body → the one-line reason in patchpilot-error, naming the field(s). */
    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of(
                        "not json",
                        "body: not valid JSON (Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false'))"),
                Arguments.of(
                        "{\"requestId\":",
                        "body: not valid JSON (Unexpected end-of-input within/between Object entries)"),
                Arguments.of("[1,2]", "body: must be a JSON object"),
                Arguments.of("", "body: must be a JSON object"),
                Arguments.of(
                        "{\"requestId\":\"chg-1\",\"env\":\"Dev\",\"reason\":\"" + "x".repeat(17_000) + "\"}",
                        "body: 17045 bytes is over the 16384-byte limit"),
                Arguments.of("{\"env\":\"Dev\"}", "requestId: required (e.g. your change ticket, chg-4711)"),
                Arguments.of(
                        "{\"requestId\":42,\"env\":\"Dev\"}",
                        "requestId: must be a string, not a number; requestId: required (e.g. your change ticket, chg-4711)"),
                Arguments.of(
                        "{\"requestId\":\"chg 47/11\",\"env\":\"Dev\"}",
                        "requestId: 'chg 47/11' must be 1-64 letters, digits, '.', '_' or '-'"),
                Arguments.of("{\"requestId\":\"chg-1\"}", "env: required (one of Default, Dev, Test, Prod, All)"),
                Arguments.of(
                        "{\"requestId\":\"chg-1\",\"env\":\"Staging\"}",
                        "env: 'Staging' is not one of Default, Dev, Test, Prod, All"),
                Arguments.of(
                        "{\"requestId\":\"chg-1\",\"env\":[\"Dev\"]}",
                        "env: must be a string, not a list; env: required (one of Default, Dev, Test, Prod, All)"),
                Arguments.of(with("include_asg", "true"), "include_asg: must be a string, not a boolean"),
                Arguments.of(with("include_asg", "\"Maybe\""), "include_asg: 'Maybe' is not one of Yes, No"),
                Arguments.of(
                        with("refresh_asg_instances", "\"y\""), "refresh_asg_instances: 'y' is not one of Yes, No"),
                Arguments.of(with("retain_healthy_percentage", "5"), "retain_healthy_percentage: 5 is outside 10-100"),
                Arguments.of(
                        with("retain_healthy_percentage", "101"), "retain_healthy_percentage: 101 is outside 10-100"),
                Arguments.of(
                        with("retain_healthy_percentage", "\"ninety\""),
                        "retain_healthy_percentage: 'ninety' is not a whole number"),
                Arguments.of(
                        with("retain_healthy_percentage", "90.5"),
                        "retain_healthy_percentage: '90.5' is not a whole number"),
                Arguments.of(
                        with("patching_operation", "\"Patch\""),
                        "patching_operation: 'Patch' is not one of Scan, Install"),
                Arguments.of(
                        with("operation_post_patching", "\"Always\""),
                        "operation_post_patching: 'Always' is not one of RebootIfNeeded, NoReboot"),
                Arguments.of(
                        with("run_patch_baseline_install_override_list", "\"http://example.com/list.yaml\""),
                        "run_patch_baseline_install_override_list: 'http://example.com/list.yaml' is not an s3://bucket/key URL"),
                Arguments.of(
                        with("run_patch_baseline_install_override_list", "\"s3://someone-elses-bucket/list.yaml\""),
                        "run_patch_baseline_install_override_list: bucket someone-elses-bucket is not an allowed override-list bucket (patchpilot-override-lists-123456789012-us-east-1)"),
                Arguments.of(
                        with(
                                "run_patch_baseline_install_override_list",
                                "\"s3://patchpilot-override-lists-123456789012-us-east-1/missing.yaml\""),
                        "run_patch_baseline_install_override_list: s3://patchpilot-override-lists-123456789012-us-east-1/missing.yaml does not exist"),
                Arguments.of(
                        "{\"requestId\":\"chg-1\",\"env\":\"Dev\",\"patching_operation\":\"Scan\",\"run_patch_baseline_install_override_list\":\"s3://patchpilot-override-lists-123456789012-us-east-1/"
                                + LocalMode.SAMPLE_OVERRIDE_LIST + "\"}",
                        "run_patch_baseline_install_override_list: only with patching_operation Install"),
                Arguments.of(with("accounts", "\"111111111111\""), "accounts: must be a list of strings, not a string"),
                Arguments.of(with("accounts", "[111111111111]"), "accounts: 111111111111 is not a string"),
                Arguments.of(with("accounts", "[\"1234\"]"), "accounts: '1234' is not a 12-digit account id"),
                Arguments.of(
                        with("accounts", "[\"999999999999\"]"),
                        "accounts: 999999999999 is not an active account of the organization"),
                Arguments.of(
                        with("regions", "[\"mars-north-1\"]"),
                        "regions: 'mars-north-1' is not one of the configured regions us-east-1, eu-west-1"),
                Arguments.of(with("regions", "{\"r\":1}"), "regions: must be a list of strings, not an object"),
                Arguments.of(with("reason", "\"" + "r".repeat(501) + "\""), "reason: 501 characters is over 500"),
                Arguments.of(
                        with("max_concurrency", "\"0\""),
                        "max_concurrency: '0' is not a count (>= 1) or a percentage such as 10%"),
                Arguments.of(
                        with("max_errors", "\"150%\""),
                        "max_errors: '150%' is not a count (>= 0) or a percentage such as 10%"),
                Arguments.of(with("approved", "true"), "approved: unknown field"),
                Arguments.of(
                        "{\"requestId\":\"chg-1\",\"env\":\"Dev\",\"requester\":\"AIDAEXAMPLE\",\"approver\":\"AIDAOTHER\"}",
                        "requester: unknown field; approver: unknown field"),
                Arguments.of(
                        "{\"requestId\":\"\",\"env\":\"Nope\",\"include_asg\":\"x\",\"retain_healthy_percentage\":0,\"accounts\":[\"1\"]}",
                        "requestId: '' must be 1-64 letters, digits, '.', '_' or '-'; env: 'Nope' is not one of Default, Dev, Test, Prod, All; "
                                + "include_asg: 'x' is not one of Yes, No; retain_healthy_percentage: 0 is outside 10-100; accounts: '1' is not a 12-digit account id"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("malformed")
    void every_problem_is_reported_at_once_naming_its_field(String body, String reason) {
        assertEquals(
                reason,
                assertThrows(PermanentFailure.class, () -> V.validate(body)).getMessage());
    }
}
