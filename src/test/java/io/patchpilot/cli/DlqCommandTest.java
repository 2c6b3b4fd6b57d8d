package io.patchpilot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

class DlqCommandTest {
    private final PatchpilotConfig config =
            PatchpilotConfig.from(Settings.load(Path.of("config"), "local", Map.of(), Map.of()));

    @Test
    void a_queue_is_named_short_full_or_by_its_dlq() {
        assertEquals("patchpilot-config-events", DlqCommand.sourceQueue(config, "config-events"));
        assertEquals("patchpilot-config-events", DlqCommand.sourceQueue(config, "patchpilot-config-events"));
        assertEquals("patchpilot-work", DlqCommand.sourceQueue(config, "patchpilot-work-dlq"));
        assertEquals(
                "QUEUE: 'events' is not one of [patchpilot-config-events, patchpilot-schedules, patchpilot-self-service, "
                        + "patchpilot-emergency, patchpilot-approvals, patchpilot-work]",
                assertThrows(ConfigException.class, () -> DlqCommand.sourceQueue(config, "events"))
                        .getMessage());
    }

    @Test
    void the_reason_is_the_rejection_or_says_sqs_redrove_it() {
        Message rejected = Message.builder()
                .messageAttributes(Map.of(
                        "patchpilot-error",
                        MessageAttributeValue.builder()
                                .dataType("String")
                                .stringValue("detail.awsRegion: 'x' is not a region name")
                                .build()))
                .build();
        assertEquals("detail.awsRegion: 'x' is not a region name", DlqCommand.reason(rejected));
        assertEquals(
                "(redriven by SQS after its last receive: a transient failure)",
                DlqCommand.reason(Message.builder().build()));
    }
}
