package io.patchpilot.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MetricsTest {
    @ParameterizedTest
    @CsvSource(
            nullValues = "null",
            value = {
                "aws2-sqs://patchpilot-work?deleteAfterRead=false,patchpilot-work",
                "aws2-sqs:patchpilot-schedules,patchpilot-schedules",
                "platform-http:/api/runs,null",
                "direct:publish-events,null"
            })
    void the_queue_of_an_sqs_endpoint(String uri, String queue) {
        assertEquals(Optional.ofNullable(queue), QueueMetrics.queueOf(uri));
    }

    @Test
    void the_scrape_shows_counters_with_their_labels() {
        Metrics.messageConsumed("web-test-queue", true);
        Metrics.deadLettered("web-test-queue");
        Metrics.messageHandled("web-test-queue", "patch-target");
        Metrics.tagOutcome("ALREADY_RIGHT");
        Metrics.awsCall("WebTestService", "Op", true);
        Metrics.runCompleted("Succeeded", Duration.ofSeconds(3), Map.of("Success", 4L, "Failed", 1L, "TimedOut", 1L));
        Metrics.reportCompleted(Duration.ofSeconds(2));
        String text = Metrics.registry().scrape();
        for (String line : new String[] {
            "patchpilot_messages_consumed_total{queue=\"web-test-queue\"}",
            "patchpilot_messages_failed_total{queue=\"web-test-queue\"}",
            "patchpilot_messages_handled_total{queue=\"web-test-queue\",type=\"patch-target\"}",
            "patchpilot_tag_outcomes_total{result=\"ALREADY_RIGHT\"}",
            "patchpilot_messages_dead_lettered_total{queue=\"web-test-queue\"}",
            "patchpilot_aws_calls_total{service=\"WebTestService\"}",
            "patchpilot_aws_throttles_total{service=\"WebTestService\"}",
            "patchpilot_run_duration_seconds_count{status=\"Succeeded\"}",
            "patchpilot_instances_patched_total",
            "patchpilot_instances_failed_total",
            "patchpilot_report_duration_seconds_count"
        }) {
            assertTrue(text.contains(line), line + " in\n" + text);
        }
    }
}
