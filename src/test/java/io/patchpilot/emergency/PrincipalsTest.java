package io.patchpilot.emergency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.config.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

class PrincipalsTest {
    private final AtomicInteger lookups = new AtomicInteger();
    private final Principals p = new Principals(
            "k",
            List.of(
                    "arn:aws:iam::123456789012:user/alice",
                    "arn:aws:iam::123456789012:role/ops/Oncall",
                    "AIDAEXAMPLEBOB00000"),
            name -> {
                lookups.incrementAndGet();
                return switch (name.name()) {
                    case "alice" -> Optional.of("AIDAALICE000000000");
                    case "Oncall" -> Optional.of("AROAONCALL00000000");
                    default -> Optional.empty();
                };
            });

    @Test
    void users_match_their_id_and_roles_every_session_of_them() {
        assertTrue(p.allows("AIDAALICE000000000"));
        assertTrue(p.allows("AROAONCALL00000000:carol"));
        assertTrue(p.allows("AIDAEXAMPLEBOB00000"));
        assertFalse(p.allows("AROAONCALL00000000"), "a role id alone is no session");
        assertFalse(p.allows("AIDASOMEONEELSE000"));
        assertFalse(p.allows("127.0.0.1"));
        assertFalse(p.allows(null));
    }

    @Test
    void arns_are_resolved_once() {
        p.allows("x");
        p.allows("y");
        assertEquals(2, lookups.get());
    }

    @Test
    void a_malformed_entry_names_the_setting() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> new Principals("patchpilot.emergency.approvers", List.of("alice"), n -> Optional.empty()));
        assertEquals(
                "patchpilot.emergency.approvers: 'alice' is not an IAM user/role ARN or a principal id (AIDA…, AROA…[:session])",
                e.getMessage());
    }

    @Test
    void the_sender_is_read_from_the_sdk_attributes_as_camel_hands_them_over() {
        assertEquals(
                "AIDAALICE000000000",
                Principals.senderOf(Map.of(
                        MessageSystemAttributeName.SENDER_ID,
                        "AIDAALICE000000000",
                        MessageSystemAttributeName.SENT_TIMESTAMP,
                        "1")));
        assertEquals(null, Principals.senderOf(null));
    }
}
