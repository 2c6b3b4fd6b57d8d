package io.patchpilot.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.testing.SlackStub;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifierTest {
    @TempDir
    Path outbox;

    private final SlackStub slack = new SlackStub();

    @AfterEach
    void stop() {
        slack.close();
    }

    private Notifier notifier() {
        return new Notifier(
                "patchpilot@example.com",
                Optional.of(URI.create(slack.url())),
                Optional.of(outbox),
                Clock.systemUTC(),
                a -> ("csv of " + a.key()).getBytes());
    }

    @Test
    void a_mail_carries_text_and_html_and_is_copied_to_the_outbox() throws Exception {
        MimeMessage m = notifier()
                .mail(
                        "{\"type\":\"notify-email\",\"to\":[\"a@example.com\",\"b@example.com\"],\"subject\":\"Run done\",\"text\":\"t\",\"html\":\"<b>h</b>\"}");
        assertEquals("Run done", m.getSubject());
        assertEquals(2, m.getAllRecipients().length);
        List<Path> copies;
        try (var files = Files.list(outbox.resolve("mail"))) {
            copies = files.toList();
        }
        assertEquals(1, copies.size());
        String eml = Files.readString(copies.get(0));
        assertTrue(eml.contains("Subject: Run done") && eml.contains("text/html") && eml.contains("<b>h</b>"), eml);
    }

    @Test
    void a_bad_address_is_a_permanent_failure_naming_it() {
        PermanentFailure e = assertThrows(
                PermanentFailure.class, () -> notifier().mail("{\"to\":[\"not an address\"],\"subject\":\"s\"}"));
        assertEquals("to: 'not an address' is not a mail address", e.getMessage());
    }

    @Test
    void a_slack_post_reaches_the_webhook_and_the_outbox() throws Exception {
        notifier().slack("{\"type\":\"notify-slack\",\"text\":\"Run Default-1: Succeeded\"}");
        assertEquals(List.of("{\"text\":\"Run Default-1: Succeeded\"}"), slack.posts());
        try (var files = Files.list(outbox.resolve("slack"))) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void a_refused_webhook_is_permanent_and_an_unavailable_one_is_retried() {
        slack.answer(404);
        PermanentFailure refused =
                assertThrows(PermanentFailure.class, () -> notifier().slack("{\"text\":\"x\"}"));
        assertEquals("slack webhook refused the post: HTTP 404 no_service", refused.getMessage());
        assertTrue(!refused.getMessage().contains("not-a-real-secret"), "the webhook URL is never in a message");
        slack.answer(503);
        IllegalStateException later =
                assertThrows(IllegalStateException.class, () -> notifier().slack("{\"text\":\"x\"}"));
        assertEquals("slack webhook answered HTTP 503 no_service", later.getMessage());
    }
}
