package io.patchpilot.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoticesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Notices notices =
            new Notices(List.of("platform@example.com"), Map.of("111111111111", "dev-owners@example.com"));

    @Test
    void a_finished_run_is_summarised_with_its_counts_and_what_needs_attention_for_the_central_team() throws Exception {
        Notice n = notices.of(
                        "Patch Run Completed",
                        JSON.readTree(
                                "{\"runId\":\"Default-20261204T0500Z\",\"window\":\"*#Default_maintenance_window\","
                                        + "\"status\":\"CompletedWithFailures\",\"occurrence\":\"2026-12-04T05:00:00Z\",\"counts\":{\"Success\":20,\"Failed\":1,\"Skipped\":4,\"targetsDone\":6}}"),
                        List.of(new Notices.Problem(
                                "222222222222", "us-east-1", "i-0abc", "Failed", "patch <KB5031356> failed")))
                .orElseThrow();
        assertEquals(
                "[patchpilot] Default-20261204T0500Z: CompletedWithFailures - 20 patched, 1 failed, 4 skipped",
                n.subject());
        assertEquals(List.of("platform@example.com"), n.mailTo());
        assertTrue(n.slack());
        assertTrue(n.text().contains("222222222222/us-east-1 i-0abc Failed - patch <KB5031356> failed"), n.text());
        assertTrue(n.html().contains("<td>patch &lt;KB5031356&gt; failed</td>"), "HTML is escaped: " + n.html());
        assertTrue(n.html().contains("<td>Success</td><td>20</td>"), n.html());
    }

    @Test
    void the_run_of_an_account_window_also_tells_that_account() throws Exception {
        Notice n = notices.of(
                        "Patch Run Completed",
                        JSON.readTree(
                                "{\"runId\":\"Dev-111111111111-20261204T0500Z\","
                                        + "\"window\":\"111111111111#Dev_maintenance_window\",\"status\":\"Succeeded\",\"counts\":{\"Success\":3}}"),
                        List.of())
                .orElseThrow();
        assertEquals(List.of("platform@example.com", "dev-owners@example.com"), n.mailTo());
    }

    @Test
    void a_blocked_run_says_why() throws Exception {
        Notice n = notices.of(
                        "Patch Run Blocked",
                        JSON.readTree("{\"runId\":\"Prod-20261204T0500Z\",\"window\":\"*#Prod_maintenance_window\","
                                + "\"reason\":\"predecessor Test_maintenance_window has no run yet\"}"),
                        List.of())
                .orElseThrow();
        assertEquals(
                "[patchpilot] Prod-20261204T0500Z: Blocked - predecessor Test_maintenance_window has no run yet",
                n.subject());
    }

    @Test
    void a_window_change_answers_the_requesting_account_only_and_only_when_it_has_a_contact() throws Exception {
        Notice n = notices.of(
                        "Window Changed",
                        JSON.readTree("{\"account\":\"111111111111\",\"window\":\"Dev_maintenance_window\","
                                + "\"action\":\"create\",\"result\":\"created\"}"),
                        List.of())
                .orElseThrow();
        assertEquals(List.of("dev-owners@example.com"), n.mailTo());
        assertEquals("[patchpilot] Dev_maintenance_window created in 111111111111", n.subject());
        assertEquals(false, n.slack());
        assertTrue(notices.of(
                        "Window Changed",
                        JSON.readTree("{\"account\":\"999999999999\",\"window\":\"Dev_maintenance_window\"}"),
                        List.of())
                .isEmpty());
    }

    @Test
    void tag_audits_are_not_news() throws Exception {
        assertTrue(
                notices.of("Patch Tags Applied", JSON.readTree("{}"), List.of()).isEmpty());
    }

    @Test
    void each_configured_channel_gets_its_own_message() {
        Notice n = new Notice("s", "t", "<p>h</p>", List.of("a@example.com"), true);
        assertEquals(
                2,
                new Notifications(notices, r -> List.of(), null, true, true)
                        .messagesFor(n)
                        .size());
        assertEquals(
                List.of("{\"type\":\"notify-slack\",\"text\":\"t\"}"),
                new Notifications(notices, r -> List.of(), null, false, true).messagesFor(n));
        assertEquals(
                0,
                new Notifications(notices, r -> List.of(), null, true, false)
                        .messagesFor(new Notice("s", "t", "h", List.of(), true))
                        .size(),
                "no recipient, no mail");
    }
}
