package io.patchpilot.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.aws.Organization;
import io.patchpilot.emergency.EmergencyRequest;
import io.patchpilot.emergency.EmergencyRuns;
import io.patchpilot.emergency.EmergencyValidator;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.tagging.ConfigEvents;
import io.patchpilot.tagging.TagRequest;
import io.patchpilot.testing.FuzzBodies;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowValidator;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

/**
 * Every queue's message parser and the self-service and emergency validators, fuzzed with 10,000
 * generated bodies each ({@link FuzzBodies}; fixed seed: a failure names its body and reruns the
 * same). Each body either parses to a valid message or is rejected with a permanent failure whose
 * one-line reason names the field: no other exception, which would leave a consumer retrying a
 * message that can never succeed. What a valid body then does is the routes' business (the fault
 * suite's malformed-message scenario sends such bodies through the running service).
 */
class MessageFuzzTest {
    private static final int TRIES = 10_000;
    private static final String SEED = "20261207";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ENVIRONMENTS = List.of("Dev", "Test", "Prod");
    private static final List<String> REGIONS = List.of("us-east-1", "eu-west-1");
    private static final Set<String> MEMBERS = Set.of("111111111111", "222222222222");

    private static final MessageTypes TYPES = new MessageTypes(Map.of(
            "schedules", List.of("reconcile", "window-fire", "window-run", "window-sync", "report", "doctor-ping"),
            "work", List.of("reconcile-item", "patch-target", "patch-poll", "notify-email", "emergency-expire")));
    private static final ConfigEvents CONFIG_EVENTS = new ConfigEvents(List.of("patch_tags"), new Members());
    private static final EmergencyValidator EMERGENCY = new EmergencyValidator(
            ENVIRONMENTS,
            REGIONS,
            Set.of("patchpilot-override-lists-123456789012-us-east-1"),
            16_384,
            MEMBERS::contains,
            url -> url.equals("s3://patchpilot-override-lists-123456789012-us-east-1/overrides/critical.yaml"));
    private static final WindowValidator WINDOWS = new WindowValidator(ENVIRONMENTS);

    // --- the bodies ----------------------------------------------------------------------

    private static final FuzzBodies CONFIG_EVENT_BODIES = new FuzzBodies(
            List.of(
                    configEvent("111111111111", "AWS::EC2::Instance", "i-0abc"),
                    configEvent(
                            "222222222222",
                            "AWS::AutoScaling::AutoScalingGroup",
                            "arn:aws:autoscaling:us-east-1:222222222222:autoScalingGroup:1234:autoScalingGroupName/web")),
            List.of(
                    "version",
                    "id",
                    "detail-type",
                    "source",
                    "account",
                    "time",
                    "region",
                    "resources",
                    "detail",
                    "resourceId",
                    "awsRegion",
                    "awsAccountId",
                    "configRuleName",
                    "resourceType",
                    "newEvaluationResult",
                    "complianceType",
                    "messageType"));
    private static final FuzzBodies SCHEDULE_BODIES = new FuzzBodies(
            List.of(
                    "{\"type\":\"reconcile\"}",
                    "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"2026-12-04T05:00:00Z\"}",
                    "{\"type\":\"report\",\"month\":\"2026-11\"}",
                    "{\"type\":\"window-sync\"}"),
            List.of("type", "window", "time", "month"));
    private static final FuzzBodies WORK_BODIES = new FuzzBodies(
            List.of(
                    "{\"type\":\"patch-target\",\"runId\":\"r-1\",\"account\":\"111111111111\",\"region\":\"us-east-1\"}",
                    "{\"type\":\"patch-poll\",\"runId\":\"r-1\",\"account\":\"111111111111\",\"region\":\"us-east-1\",\"attempt\":3}",
                    "{\"type\":\"reconcile-item\",\"account\":\"222222222222\",\"region\":\"eu-west-1\"}"),
            List.of("type", "runId", "account", "region", "attempt"));
    private static final FuzzBodies EMERGENCY_BODIES = new FuzzBodies(
            List.of(
                    "{\"requestId\":\"chg-4711\",\"env\":\"Default\",\"include_asg\":\"Yes\",\"retain_healthy_percentage\":90,"
                            + "\"refresh_asg_instances\":\"Yes\",\"patching_operation\":\"Install\",\"operation_post_patching\":\"RebootIfNeeded\","
                            + "\"run_patch_baseline_install_override_list\":\"\",\"accounts\":[],\"regions\":[],\"reason\":\"CVE-2026-12345\"}",
                    "{\"requestId\":\"chg-1\",\"env\":\"Dev\",\"accounts\":[\"111111111111\"],\"regions\":[\"eu-west-1\"],"
                            + "\"patching_operation\":\"Install\",\"run_patch_baseline_install_override_list\":"
                            + "\"s3://patchpilot-override-lists-123456789012-us-east-1/overrides/critical.yaml\","
                            + "\"max_concurrency\":\"5\",\"max_errors\":\"0\"}",
                    "{\"requestId\":\"scan.2\",\"env\":\"All\",\"patching_operation\":\"Scan\",\"operation_post_patching\":\"NoReboot\"}"),
            sorted(EmergencyValidator.FIELDS));
    private static final FuzzBodies APPROVAL_BODIES = new FuzzBodies(
            List.of(
                    "{\"requestId\":\"chg-4711\",\"decision\":\"approve\"}",
                    "{\"requestId\":\"x\",\"decision\":\"reject\"}"),
            List.of("requestId", "decision"));
    private static final FuzzBodies WINDOW_BODIES = new FuzzBodies(
            List.of(
                    "{\"Environment\":\"Dev\"}",
                    "{\"Environment\":\"Prod\",\"Account\":\"111111111111\",\"PatchingFrequency\":14,\"PatchingWindowWeekday\":\"Sunday\","
                            + "\"PatchingWindowStartTime\":2,\"PatchingWindowDuration\":6,\"CutoffHours\":2,\"PatchingOperation\":\"Scan\","
                            + "\"OperationPostPatching\":\"NoReboot\",\"IncludeASG\":\"Yes\",\"RetainHealthyPercentage\":50,"
                            + "\"RefreshASGInstances\":\"No\",\"TimeZone\":\"Europe/Berlin\",\"MaxConcurrency\":\"20%\",\"MaxErrors\":\"1\","
                            + "\"PredecessorWindow\":\"Test_maintenance_window\",\"SoakHours\":24,\"MaxFailurePercent\":5}",
                    "{\"Environment\":\"Test\",\"CronExpression\":\"cron(0 3 ? * SAT *)\",\"PreInstallHookDocName\":\"Hook-Doc\"}",
                    "{\"Environment\":\"Dev\",\"PatchTuesdayOffsetDays\":4}"),
            // the validator's fields, and the self-service request's field that carries the window
            Stream.concat(sorted(WindowValidator.FIELDS).stream(), Stream.of("window"))
                    .toList());

    /** A field set in a fixed order, so that the seeded bodies are the same on every JVM. */
    private static List<String> sorted(Set<String> fields) {
        return fields.stream().sorted().toList();
    }

    // --- the properties --------------------------------------------------------------------

    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void config_events(@ForAll("configEvents") String body) {
        outcome(CONFIG_EVENT_BODIES, body, b -> {
            TagRequest r = CONFIG_EVENTS.toTagRequest(b);
            if (r != null) {
                assertTrue(MEMBERS.contains(r.target().account()), r.toString());
                assertTrue(REGIONS.contains(r.target().region())
                        || r.target().region().matches("[a-z]{2}(-[a-z]+)+-\\d"));
                assertTrue(!r.resourceId().isBlank(), r.toString());
            }
            return r == null ? "ignored" : "tag request";
        });
    }

    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void schedules(@ForAll("schedules") String body) {
        outcome(SCHEDULE_BODIES, body, b -> {
            String type = TYPES.typeOf("schedules", b);
            assertEquals(type, JsonBodies.object(b).get("type").asText());
            return type;
        });
    }

    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void work(@ForAll("work") String body) {
        outcome(WORK_BODIES, body, b -> TYPES.typeOf("work", b));
    }

    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void emergency_requests(@ForAll("emergency") String body) {
        outcome(EMERGENCY_BODIES, body, b -> {
            EmergencyRequest r = EMERGENCY.validate(b);
            assertTrue(r.requestId().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}"), r.toString());
            assertTrue(r.env().equals("Default") || r.env().equals("All") || ENVIRONMENTS.contains(r.env()));
            assertTrue(MEMBERS.containsAll(r.accounts()) && REGIONS.containsAll(r.regions()), r.toString());
            return "valid";
        });
    }

    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void approvals(@ForAll("approvals") String body) {
        outcome(APPROVAL_BODIES, body, b -> {
            EmergencyRuns.Decision d = EmergencyRuns.Decision.parse(b);
            assertTrue(Set.of("approve", "reject").contains(d.decision()), d.toString());
            return "valid";
        });
    }

    /** Self-service requests carry a window; the validator's reasons become the dead letter's "window: …". */
    @Property(tries = TRIES, seed = SEED, shrinking = ShrinkingMode.OFF)
    void self_service_windows(@ForAll("windows") String body) {
        outcome(WINDOW_BODIES, body, b -> {
            JsonNode json;
            try {
                json = JSON.readTree(b);
            } catch (JsonProcessingException e) {
                throw new PermanentFailure("body is not JSON: " + e.getOriginalMessage());
            }
            try {
                MaintenanceWindow w = WINDOWS.validate(json, "111111111111");
                assertTrue(ENVIRONMENTS.contains(w.environment()), w.toString());
                assertTrue(w.cutoffHours() < w.durationHours(), w.toString());
                return "valid";
            } catch (WindowValidator.InvalidWindow e) {
                throw new PermanentFailure("window: " + e.getMessage());
            }
        });
    }

    /** Parsed and valid, or rejected naming a field; anything else fails the property. */
    private static void outcome(FuzzBodies bodies, String body, Function<String, String> parse) {
        String kind;
        try {
            kind = parse.apply(body);
        } catch (PermanentFailure e) {
            bodies.checkReason(body, e.getMessage());
            kind = "rejected";
        }
        Statistics.collect(kind);
    }

    @Provide
    Arbitrary<String> configEvents() {
        return CONFIG_EVENT_BODIES.arbitrary();
    }

    @Provide
    Arbitrary<String> schedules() {
        return SCHEDULE_BODIES.arbitrary();
    }

    @Provide
    Arbitrary<String> work() {
        return WORK_BODIES.arbitrary();
    }

    @Provide
    Arbitrary<String> emergency() {
        return EMERGENCY_BODIES.arbitrary();
    }

    @Provide
    Arbitrary<String> approvals() {
        return APPROVAL_BODIES.arbitrary();
    }

    @Provide
    Arbitrary<String> windows() {
        return WINDOW_BODIES.arbitrary();
    }

    private static String configEvent(String account, String type, String resourceId) {
        return """
                {"version":"0","id":"ev-1","detail-type":"Config Rules Compliance Change","source":"aws.config",
                 "account":"%s","time":"2026-11-27T05:00:00Z","region":"us-east-1","resources":[],
                 "detail":{"resourceId":"%s","awsRegion":"us-east-1","awsAccountId":"%s","configRuleName":"patch_tags",
                   "resourceType":"%s","newEvaluationResult":{"complianceType":"NON_COMPLIANT"},"messageType":"ComplianceChangeNotification"}}
                """.formatted(account, resourceId, account, type);
    }

    /** Organization membership without AWS: the decision under test is the parser's. */
    private static final class Members extends Organization {
        Members() {
            super(null, Clock.systemUTC());
        }

        @Override
        public boolean isActiveMember(String account) {
            return MEMBERS.contains(account);
        }

        @Override
        public Set<String> activeAccounts() {
            return MEMBERS;
        }
    }
}
