package io.patchpilot.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.patching.RunFigures;
import io.patchpilot.windows.WindowNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NoticesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Notices notices =
            new Notices(List.of("platform@example.com"), Map.of("111111111111", "dev-owners@example.com"));

    private static RunFigures figures() {
        return new RunFigures(
                "Default-20261204T0500Z",
                "Default_maintenance_window (organization)",
                "CompletedWithFailures",
                "2026-12-04T05:00:00Z",
                6,
                6,
                Map.of("Done", 6L),
                Map.of("Success", 20L, "Failed", 1L, "Skipped", 4L),
                Map.of("Refreshed", 1L),
                List.of(new RunFigures.Problem(
                        "222222222222", "us-east-1", "i-0abc", "Failed", "patch <KB5031356> failed")),
                1);
    }

    @Test
    void a_finished_run_is_summarised_with_its_figures_and_what_needs_attention_for_the_central_team()
            throws Exception {
        Notice n = notices.of(
                        "Patch Run Completed",
                        JSON.readTree(
                                "{\"runId\":\"Default-20261204T0500Z\",\"window\":\"Default_maintenance_window (organization)\","
                                        + "\"windowScope\":\"organization\",\"status\":\"CompletedWithFailures\"}"),
                        Optional.of(figures()))
                .orElseThrow();
        assertEquals(
                "[patchpilot] Default-20261204T0500Z: CompletedWithFailures - 20 patched, 1 failed, 4 skipped"
                        + " - Default_maintenance_window (organization)",
                n.subject());
        assertEquals(List.of("platform@example.com"), n.mailTo());
        assertTrue(n.slack());
        assertTrue(n.text().contains("222222222222/us-east-1 i-0abc Failed - patch <KB5031356> failed"), n.text());
        assertTrue(n.text().contains("Account-regions: 6 of 6 account-regions done (Done 6)"), n.text());
        assertTrue(n.text().contains("AutoScaling groups: Refreshed 1"), n.text());
        assertTrue(n.text().contains("Window Default_maintenance_window (organization)"), n.text());
        assertTrue(n.html().contains("<td>patch &lt;KB5031356&gt; failed</td>"), "HTML is escaped: " + n.html());
        assertTrue(
                n.html().contains("<td>20 patched, 1 failed, 4 skipped (Failed 1, Skipped 4, Success 20)</td>"),
                n.html());
        assertTrue(n.html().contains("<td>6 of 6 done</td>"), n.html());
        for (String text : List.of(n.subject(), n.text(), n.html()))
            assertFalse(
                    WindowNames.containsLedgerKey(text) || text.contains("asgs") || text.contains("targetsDone"), text);
    }

    @Test
    void a_run_that_ends_again_after_a_resumed_step_says_its_figures_replace_the_earlier_ones() throws Exception {
        String event = "{\"runId\":\"Default-20261204T0500Z\",\"window\":\"Default_maintenance_window (organization)\","
                + "\"windowScope\":\"organization\",\"status\":\"CompletedWithFailures\"";
        Notice again = notices.of(
                        "Patch Run Completed",
                        JSON.readTree(event + ",\"recompletion\":true,\"completion\":2}"),
                        Optional.of(figures()))
                .orElseThrow();
        String line = "Ended again (end 2): a step resumed from the DLQ reopened it;"
                + " these figures replace those of its earlier end.";
        assertTrue(again.text().contains(line), again.text());
        assertTrue(again.html().contains("<p>" + line + "</p>"), again.html());
        Notice first = notices.of("Patch Run Completed", JSON.readTree(event + "}"), Optional.of(figures()))
                .orElseThrow();
        assertFalse(first.text().contains("Ended again"), first.text());
        assertEquals(first.subject(), again.subject());
    }

    @Test
    void slack_gets_block_kit_with_the_outcome_the_figures_at_most_ten_lines_to_attend_to_and_the_run_page()
            throws Exception {
        List<RunFigures.Problem> many = new ArrayList<>();
        for (int i = 0; i < 14; i++)
            many.add(new RunFigures.Problem("222222222222", "us-east-1", "i-" + i, "Failed", "patch <KB1> failed"));
        RunFigures f = new RunFigures(
                "Default-20261204T0500Z",
                "Default_maintenance_window (organization)",
                "CompletedWithFailures",
                "2026-12-04T05:00:00Z",
                6,
                6,
                Map.of("Done", 6L),
                Map.of("Success", 20L, "Failed", 14L),
                Map.of("Refreshed", 1L),
                many,
                15);
        Notice n = new Notices(List.of("platform@example.com"), Map.of(), Optional.of("https://pp.example.com/"))
                .of(
                        "Patch Run Completed",
                        JSON.readTree("{\"runId\":\"Default-20261204T0500Z\",\"windowScope\":\"organization\"}"),
                        Optional.of(f))
                .orElseThrow();
        JsonNode blocks = n.slackBlocks().orElseThrow();
        assertEquals("header", blocks.get(0).path("type").asText());
        assertTrue(blocks.get(0).path("text").path("text").asText().contains("CompletedWithFailures"));
        String all = blocks.toString();
        assertTrue(all.contains("*Account-regions*\\n6 of 6 done"), all);
        assertTrue(all.contains("*AutoScaling groups*\\nRefreshed 1"), all);
        String attention = blocks.get(3).path("text").path("text").asText();
        assertEquals(10, attention.lines().filter(l -> l.startsWith("• ")).count(), attention);
        assertTrue(attention.endsWith("+5 more"), attention);
        assertTrue(attention.contains("patch &lt;KB1&gt; failed"), "mrkdwn escaped: " + attention);
        assertTrue(all.contains("<https://pp.example.com/runs/Default-20261204T0500Z|Open the run page>"), all);
        assertTrue(n.text().contains("Run page: https://pp.example.com/runs/Default-20261204T0500Z"), n.text());
        String message = new Notifications(notices, r -> Optional.empty(), null, false, true)
                .messagesFor(n)
                .get(0);
        assertTrue(JSON.readTree(message).path("blocks").isArray(), message);
        assertFalse(message.contains("attached"), message);

        Notice noLink = notices.of(
                        "Patch Run Completed", JSON.readTree("{\"runId\":\"Default-20261204T0500Z\"}"), Optional.of(f))
                .orElseThrow();
        assertFalse(noLink.slackBlocks().orElseThrow().toString().contains("Open the run page"));
    }

    @Test
    void the_run_of_an_account_window_also_tells_that_account() throws Exception {
        Notice n = notices.of(
                        "Patch Run Completed",
                        JSON.readTree("{\"runId\":\"Dev-111111111111-20261204T0500Z\","
                                + "\"window\":\"Dev_maintenance_window (111111111111)\",\"windowScope\":\"111111111111\","
                                + "\"status\":\"Succeeded\"}"),
                        Optional.empty())
                .orElseThrow();
        assertEquals(List.of("platform@example.com", "dev-owners@example.com"), n.mailTo());
    }

    @Test
    void a_blocked_run_says_why() throws Exception {
        Notice n = notices.of(
                        "Patch Run Blocked",
                        JSON.readTree(
                                "{\"runId\":\"Prod-20261204T0500Z\",\"window\":\"Prod_maintenance_window (organization)\","
                                        + "\"reason\":\"predecessor Test_maintenance_window has no run yet\"}"),
                        Optional.empty())
                .orElseThrow();
        assertEquals(
                "[patchpilot] Prod-20261204T0500Z: Blocked - predecessor Test_maintenance_window has no run yet",
                n.subject());
    }

    @Test
    void a_blocked_run_and_an_emergency_request_post_to_slack_in_block_kit_like_a_run() throws Exception {
        Notices linked = new Notices(List.of("platform@example.com"), Map.of(), Optional.of("https://pp.example.com/"));
        JsonNode blocked = linked.of(
                        "Patch Run Blocked",
                        JSON.readTree(
                                "{\"runId\":\"Prod-20261204T0500Z\",\"window\":\"Prod_maintenance_window (organization)\","
                                        + "\"reason\":\"predecessor Test_maintenance_window has no run yet\"}"),
                        Optional.empty())
                .orElseThrow()
                .slackBlocks()
                .orElseThrow();
        assertEquals("header", blocked.get(0).path("type").asText());
        assertEquals(
                "⛔ Prod-20261204T0500Z: Blocked",
                blocked.get(0).path("text").path("text").asText());
        assertEquals(
                "*Window*\nProd_maintenance_window (organization)",
                blocked.get(1).path("fields").get(0).path("text").asText());
        assertTrue(
                blocked.toString().contains("predecessor Test_maintenance_window has no run yet"), blocked.toString());
        assertTrue(
                blocked.toString().contains("<https://pp.example.com/runs/Prod-20261204T0500Z|Open the run page>"),
                blocked.toString());

        JsonNode approval = notices.of(
                        "Emergency Approval Needed",
                        JSON.readTree("{\"runId\":\"emergency-chg-1\",\"env\":\"Prod\",\"requester\":\"alice\","
                                + "\"reason\":\"CVE-2026-1 <critical>\",\"expiresAt\":\"2026-12-07T20:00:00Z\"}"),
                        Optional.empty())
                .orElseThrow()
                .slackBlocks()
                .orElseThrow();
        assertEquals(
                "🔔 Emergency emergency-chg-1 (Prod) needs approval",
                approval.get(0).path("text").path("text").asText());
        assertEquals(
                "*Reason*\nCVE-2026-1 &lt;critical&gt;",
                approval.get(1).path("fields").get(1).path("text").asText());
        assertTrue(
                approval.get(2)
                        .path("text")
                        .path("text")
                        .asText()
                        .contains("patchpilot emergency approve emergency-chg-1"),
                approval.toString());
        assertFalse(approval.toString().contains("Open the run page"), "no public address, no link");
    }

    @Test
    void a_window_change_answers_the_requesting_account_only_and_only_when_it_has_a_contact() throws Exception {
        Notice n = notices.of(
                        "Window Changed",
                        JSON.readTree("{\"account\":\"111111111111\",\"window\":\"Dev_maintenance_window\","
                                + "\"action\":\"create\",\"result\":\"created\"}"),
                        Optional.empty())
                .orElseThrow();
        assertEquals(List.of("dev-owners@example.com"), n.mailTo());
        assertEquals("[patchpilot] Dev_maintenance_window created in 111111111111", n.subject());
        assertEquals(false, n.slack());
        assertTrue(notices.of(
                        "Window Changed",
                        JSON.readTree("{\"account\":\"999999999999\",\"window\":\"Dev_maintenance_window\"}"),
                        Optional.empty())
                .isEmpty());
    }

    @Test
    void tag_audits_are_not_news() throws Exception {
        assertTrue(notices.of("Patch Tags Applied", JSON.readTree("{}"), Optional.empty())
                .isEmpty());
    }

    @Test
    void each_configured_channel_gets_its_own_message() {
        Notice n = new Notice("s", "t", "<p>h</p>", List.of("a@example.com"), true);
        assertEquals(
                2,
                new Notifications(notices, r -> Optional.empty(), null, true, true)
                        .messagesFor(n)
                        .size());
        assertEquals(
                List.of("{\"type\":\"notify-slack\",\"text\":\"t\"}"),
                new Notifications(notices, r -> Optional.empty(), null, false, true).messagesFor(n));
        assertEquals(
                0,
                new Notifications(notices, r -> Optional.empty(), null, true, false)
                        .messagesFor(new Notice("s", "t", "h", List.of(), true))
                        .size(),
                "no recipient, no mail");
    }
}
