package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class RunFiguresTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, AttributeValue> run(int accountRegions) {
        Map<String, AttributeValue> run = Ledger.item("RUN#r", RunKeys.RUN);
        StringBuilder scope = new StringBuilder("[");
        for (int i = 0; i < accountRegions; i++)
            scope.append(i == 0 ? "" : ",").append("{\"account\":\"11111111111" + i + "\",\"region\":\"us-east-1\"}");
        run.put("runId", Ledger.s("Default-20261204T0500Z"));
        run.put("window", Ledger.s("*#Default_maintenance_window"));
        run.put("status", Ledger.s("CompletedWithFailures"));
        run.put("occurrence", Ledger.s("2026-12-04T05:00:00Z"));
        run.put("scope", Ledger.s(scope.append(']').toString()));
        // the ledger's counters include the groups: 2 account-regions + 3 groups
        run.put("targetsTotal", AttributeValue.fromN(Integer.toString(accountRegions + 3)));
        run.put("targetsDone", AttributeValue.fromN(Integer.toString(accountRegions + 3)));
        return run;
    }

    private static Map<String, AttributeValue> target(String account, String state, String instances) {
        Map<String, AttributeValue> t = Ledger.item("RUN#r", "TARGET#" + account + "#us-east-1");
        t.put("account", Ledger.s(account));
        t.put("region", Ledger.s("us-east-1"));
        t.put("state", Ledger.s(state));
        t.put("reason", Ledger.s(state.equals("Failed") ? "AccessDenied: not allowed" : ""));
        if (instances != null) t.put("instances", Ledger.s(instances));
        return t;
    }

    private static Map<String, AttributeValue> group(String name, String state, String reason) {
        Map<String, AttributeValue> g = Ledger.item("RUN#r", "ASG#111111111110#us-east-1#" + name);
        g.put("account", Ledger.s("111111111110"));
        g.put("region", Ledger.s("us-east-1"));
        g.put("group", Ledger.s(name));
        g.put("state", Ledger.s(state));
        g.put("reason", Ledger.s(reason));
        return g;
    }

    private static List<Map<String, AttributeValue>> items() {
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        items.add(target(
                "111111111110",
                "Done",
                "{\"i-1\":{\"status\":\"Success\"},\"i-2\":{\"status\":\"Failed\",\"reason\":\"Failed\"},"
                        + "\"i-3\":{\"status\":\"Skipped\",\"reason\":\"instance is stopped\"}}"));
        items.add(target("111111111111", "Failed", null));
        items.add(group("web-asg", "Refreshed", ""));
        items.add(group("bad-asg", "Failed", "instance refresh x ended RollbackSuccessful: unhealthy"));
        items.add(group("k8s-asg", "Skipped", "exempt"));
        return items;
    }

    @Test
    void account_regions_are_counted_of_the_scope_and_never_more_done_than_there_are() {
        RunFigures f = RunFigures.of(run(2), items(), 10);
        assertEquals(2, f.accountRegionsDone());
        assertEquals(2, f.accountRegionsTotal(), "the groups are not account-regions");
        assertEquals("2 of 2 account-regions done (Done 1, Failed 1)", f.accountRegionsLine());
    }

    @Test
    void a_running_account_region_is_not_done() {
        List<Map<String, AttributeValue>> items = items();
        items.add(target("111111111112", "Sent", "{\"i-9\":{\"status\":\"Pending\"}}"));
        RunFigures f = RunFigures.of(run(3), items, 10);
        assertEquals(2, f.accountRegionsDone());
        assertEquals(3, f.accountRegionsTotal());
    }

    @Test
    void groups_are_their_own_outcomes_and_never_among_the_instances() {
        RunFigures f = RunFigures.of(run(2), items(), 10);
        assertEquals(Map.of("Success", 1L, "Failed", 1L, "Skipped", 1L), f.instances());
        assertEquals(Map.of("Refreshed", 1L, "RolledBack", 1L, "Skipped", 1L), f.groups());
        assertEquals("1 patched, 1 failed, 1 skipped (Failed 1, Skipped 1, Success 1)", f.instancesLine());
        assertEquals("Refreshed 1, RolledBack 1, Skipped 1", f.groupsLine());
    }

    @Test
    void what_needs_attention_lists_failed_instances_account_regions_and_groups_up_to_the_limit() {
        RunFigures all = RunFigures.of(run(2), items(), 10);
        assertEquals(3, all.problemsTotal());
        assertEquals(
                List.of("i-2", "account-region", "asg bad-asg"),
                all.problems().stream().map(RunFigures.Problem::resource).toList());
        RunFigures one = RunFigures.of(run(2), items(), 1);
        assertEquals(1, one.problems().size());
        assertEquals(3, one.problemsTotal());
        assertTrue(RunText.lines(one).contains("  +2 more"), RunText.lines(one).toString());
    }

    @Test
    void the_text_names_the_window_as_people_know_it_and_no_ledger_key() {
        List<String> lines = RunText.lines(RunFigures.of(run(2), items(), 10));
        assertEquals("Window Default_maintenance_window (organization), occurrence 2026-12-04T05:00:00Z", lines.get(0));
        assertTrue(lines.contains("AutoScaling groups: Refreshed 1, RolledBack 1, Skipped 1"), lines.toString());
        assertFalse(String.join("\n", lines).contains("#Default"), lines.toString());
    }

    @Test
    void kept_figures_read_back_without_their_problems() throws Exception {
        RunFigures f = RunFigures.of(run(2), items(), 0);
        RunFigures back = JSON.readValue(JSON.writeValueAsString(JSON.valueToTree(f)), RunFigures.class);
        assertEquals(f, back);
        assertEquals(f.instancesLine(), back.instancesLine());
    }
}
