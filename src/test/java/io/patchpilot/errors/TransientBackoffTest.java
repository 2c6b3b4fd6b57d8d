package io.patchpilot.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TransientBackoffTest {
    @ParameterizedTest(name = "receive {1} with base {0}s -> {2}s")
    @CsvSource({
        "120, 1, 120",
        "120, 2, 240",
        "120, 3, 480",
        "120, 5, 1920",
        "120, 6, 3600",
        "5, 5, 80",
        "5, 0, 5",
        "120, 1000, 3600",
    })
    void each_failed_receive_doubles_the_wait_up_to_an_hour(int base, int receives, int seconds) {
        assertEquals(Duration.ofSeconds(seconds), TransientBackoff.delay(Duration.ofSeconds(base), receives));
    }

    @Test
    void the_receive_count_comes_from_the_sqs_attributes() {
        assertEquals(3, TransientBackoff.receiveCount(Map.of("ApproximateReceiveCount", "3", "SentTimestamp", "1")));
        assertEquals(1, TransientBackoff.receiveCount(Map.of("SentTimestamp", "1")));
        assertEquals(1, TransientBackoff.receiveCount(null));
        assertEquals(1, TransientBackoff.receiveCount(Map.of("ApproximateReceiveCount", "x")));
    }
}
