package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.ledger.Ledger;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class AmiStepsTest {
    private static final Instant T0 = Instant.parse("2026-12-07T18:00:00Z");

    private static Map<String, AttributeValue> item(String history, String... kv) {
        Map<String, AttributeValue> item = new HashMap<>(Ledger.item("RUN#r", "ASG#111111111111#us-east-1#web"));
        item.put("account", Ledger.s("111111111111"));
        item.put("region", Ledger.s("us-east-1"));
        item.put("group", Ledger.s("web"));
        item.put("refresh", Ledger.s("true"));
        item.put("stepAt", Ledger.s(T0.plusSeconds(600).toString()));
        if (history != null) item.put("history", Ledger.s(history));
        for (int i = 0; i < kv.length; i += 2) item.put(kv[i], Ledger.s(kv[i + 1]));
        return item;
    }

    /** The history of a build that went through the given steps, one minute each, all done. */
    private static String through(Step... steps) {
        String h = "";
        Instant t = T0;
        for (Step s : steps) {
            h = AmiSteps.append(h, s, t, t.plusSeconds(60), AmiSteps.DONE, "");
            t = t.plusSeconds(60);
        }
        return h;
    }

    private static Map<String, AmiSteps.View> byName(List<AmiSteps.View> steps) {
        Map<String, AmiSteps.View> out = new HashMap<>();
        steps.forEach(v -> out.put(v.name(), v));
        return out;
    }

    @Test
    void a_refresh_under_way_shows_the_finished_steps_with_times_and_the_refresh_with_its_percentage() {
        String h = through(
                Step.RESOLVE,
                Step.LAUNCH,
                Step.WAIT_MANAGED,
                Step.INSTALL,
                Step.WAIT_INSTALL,
                Step.STOP,
                Step.WAIT_STOPPED,
                Step.IMAGE,
                Step.WAIT_IMAGE,
                Step.TERMINATE,
                Step.VERSION,
                Step.REFRESH);
        AmiSteps.Group g = AmiSteps.group(item(
                h,
                "state",
                "WaitRefresh",
                "note",
                "instance refresh r-1 InProgress 40 %",
                "refreshPercent",
                "40",
                "imageId",
                "ami-new",
                "launchTemplateId",
                "lt-1",
                "sourceVersion",
                "1",
                "newVersion",
                "2"));
        List<String> names = g.steps().stream().map(AmiSteps.View::name).toList();
        assertEquals(
                List.of(
                        "Build instance launched",
                        "SSM-managed",
                        "Patched",
                        "Stopped",
                        "Image available",
                        "Launch template version",
                        "Instance refresh",
                        "Scan",
                        "Cleanup"),
                names);
        Map<String, AmiSteps.View> s = byName(g.steps());
        AmiSteps.View launched = s.get("Build instance launched");
        assertEquals("Done", launched.status());
        assertEquals("2026-12-07T18:00:00Z", launched.startedAt());
        assertEquals("2026-12-07T18:02:00Z", launched.endedAt());
        assertEquals("Done", s.get("Image available").status());
        assertEquals("ami-new", s.get("Image available").detail());
        assertEquals("lt-1 version 1 → 2", s.get("Launch template version").detail());
        AmiSteps.View refresh = s.get("Instance refresh");
        assertEquals("Running", refresh.status());
        assertEquals(40, refresh.percent());
        assertEquals("2026-12-07T18:11:00Z", refresh.startedAt());
        assertNull(refresh.endedAt());
        assertEquals("instance refresh r-1 InProgress 40 %", refresh.detail());
        assertEquals("Pending", s.get("Scan").status());
        assertEquals("Pending", s.get("Cleanup").status());
    }

    @Test
    void a_failed_refresh_names_the_failing_step_and_shows_the_rollback_and_what_was_not_reached() {
        String h = through(Step.RESOLVE, Step.LAUNCH, Step.WAIT_MANAGED, Step.INSTALL, Step.WAIT_INSTALL);
        h = AmiSteps.append(h, Step.STOP, T0, T0.plusSeconds(5), AmiSteps.FAILED, "UnauthorizedOperation: no");
        h = AmiSteps.append(h, Step.TERMINATE_BUILD, T0.plusSeconds(5), T0.plusSeconds(9), AmiSteps.DONE, "");
        Map<String, AmiSteps.View> s = byName(
                AmiSteps.group(item(h, "state", "Failed", "failedStep", "Stop")).steps());
        assertEquals("Failed", s.get("Stopped").status());
        assertEquals("Stop: UnauthorizedOperation: no", s.get("Stopped").detail());
        assertEquals("NotReached", s.get("Image available").status());
        assertNull(s.get("Instance refresh").percent());
        assertEquals("Done", s.get("Rollback").status());
        assertEquals("2026-12-07T18:00:09Z", s.get("Rollback").endedAt());
    }

    @Test
    void a_scan_failure_after_the_refresh_is_a_warning_and_no_refresh_skips_the_scan() {
        String h = through(Step.RESOLVE, Step.LAUNCH, Step.VERSION, Step.REFRESH, Step.WAIT_REFRESH, Step.SCAN);
        h = AmiSteps.append(h, Step.WAIT_SCAN, T0, T0.plusSeconds(1), AmiSteps.WARNING, "scan Failed");
        h = AmiSteps.append(h, Step.RETENTION, T0, T0.plusSeconds(1), AmiSteps.DONE, "");
        h = AmiSteps.append(h, Step.PRUNE, T0, T0.plusSeconds(1), AmiSteps.DONE, "");
        Map<String, AmiSteps.View> s =
                byName(AmiSteps.group(item(h, "state", "Refreshed")).steps());
        assertEquals("Warning", s.get("Scan").status());
        assertEquals(100, s.get("Instance refresh").percent());
        assertEquals("Done", s.get("Cleanup").status());
        assertTrue(!s.containsKey("Rollback"));

        Map<String, AttributeValue> published = item(
                through(Step.RESOLVE, Step.VERSION, Step.PUBLISH, Step.RETENTION, Step.PRUNE),
                "state",
                "Published",
                "refresh",
                "false");
        Map<String, AmiSteps.View> p = byName(AmiSteps.group(published).steps());
        assertEquals("Done", p.get("Group on the new version (no refresh)").status());
        assertNull(p.get("Group on the new version (no refresh)").percent());
        assertEquals("Skipped", p.get("Scan").status());
    }

    @Test
    void a_group_not_built_or_recorded_before_steps_were_kept_has_no_steps() {
        assertEquals(
                List.of(), AmiSteps.group(item(null, "state", "NeedsMigration")).steps());
        assertEquals(List.of(), AmiSteps.group(item(null, "state", "Refreshed")).steps());
        // a build just selected is at its first step
        AmiSteps.View first =
                AmiSteps.group(item(null, "state", "Resolve")).steps().get(0);
        assertEquals("Running", first.status());
        assertEquals("2026-12-07T18:10:00Z", first.startedAt());
    }

    @Test
    void runs_show_prints_each_step_on_its_line() {
        String h = through(Step.RESOLVE, Step.LAUNCH);
        List<String> lines = AmiProgress.lines(item(h, "state", "WaitManaged", "instanceId", "i-1"));
        assertTrue(
                lines.contains("      Build instance launched                Done       18:00:00Z → 18:02:00Z i-1"),
                String.join("\n", lines));
        assertTrue(
                lines.contains("      SSM-managed                            Running    18:10:00Z → …"
                        + "         waiting for the temporary instance to be managed by SSM"),
                String.join("\n", lines));
    }
}
