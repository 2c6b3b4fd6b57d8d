package io.patchpilot.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import jakarta.activation.DataHandler;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Delivers one notification message: a mail becomes a MIME message that the route hands to
 * camel-mail; a Slack text is posted to the team's incoming webhook. In local mode each is also
 * written to the outbox folder, so it can be opened without a mail client.
 */
public final class Notifier {
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final String from;
    /** The webhook URL is a secret: it stays here, never in an endpoint URI or a log line. */
    private final Optional<URI> slackWebhook;

    private final Optional<Path> outbox;
    private final Clock clock;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Function<Notice.Attachment, byte[]> files;

    public Notifier(
            String from,
            Optional<URI> slackWebhook,
            Optional<Path> outbox,
            Clock clock,
            Function<Notice.Attachment, byte[]> files) {
        this.files = files;
        this.from = from;
        this.slackWebhook = slackWebhook;
        this.outbox = outbox;
        this.clock = clock;
    }

    /** {@code {"type":"notify-email","to":[…],"subject","text","html"}} → the message camel-mail sends as it is. */
    public MimeMessage mail(String body) throws MessagingException, IOException {
        JsonNode m = JsonBodies.object(body);
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setFrom(new InternetAddress(from));
        for (JsonNode to : m.path("to")) {
            try {
                message.addRecipient(Message.RecipientType.TO, new InternetAddress(to.asText(), true));
            } catch (AddressException e) {
                throw new PermanentFailure("to: '" + to.asText() + "' is not a mail address");
            }
        }
        if (message.getAllRecipients() == null) throw new PermanentFailure("to: no recipient");
        message.setSubject(m.path("subject").asText(), "UTF-8");
        message.setSentDate(Date.from(clock.instant()));
        MimeMultipart alternatives = new MimeMultipart("alternative");
        MimeBodyPart text = new MimeBodyPart();
        text.setText(m.path("text").asText(), "UTF-8");
        MimeBodyPart html = new MimeBodyPart();
        html.setContent(m.path("html").asText(), "text/html; charset=UTF-8");
        alternatives.addBodyPart(text);
        alternatives.addBodyPart(html);
        if (m.path("attachments").isEmpty()) {
            message.setContent(alternatives);
        } else {
            MimeMultipart mixed = new MimeMultipart("mixed");
            MimeBodyPart content = new MimeBodyPart();
            content.setContent(alternatives);
            mixed.addBodyPart(content);
            for (JsonNode a : m.path("attachments")) {
                MimeBodyPart file = new MimeBodyPart();
                byte[] bytes = files.apply(new Notice.Attachment(
                        a.path("name").asText(),
                        a.path("bucket").asText(),
                        a.path("key").asText()));
                file.setDataHandler(new DataHandler(new ByteArrayDataSource(bytes, "text/csv")));
                file.setFileName(a.path("name").asText());
                mixed.addBodyPart(file);
            }
            message.setContent(mixed);
        }
        message.saveChanges();
        if (outbox.isPresent()) {
            try (OutputStream out =
                    Files.newOutputStream(outboxFile("mail", m.path("subject").asText(), ".eml"))) {
                message.writeTo(out);
            }
        }
        return message;
    }

    /** {@code {"type":"notify-slack","text"}}: posted to the webhook (and the outbox). */
    public void slack(String body) throws IOException, InterruptedException {
        JsonNode m = JsonBodies.object(body);
        ObjectNode post =
                new ObjectMapper().createObjectNode().put("text", m.path("text").asText());
        // Block Kit when the notice has blocks; the text stays the notification's fallback
        if (m.path("blocks").isArray()) post.set("blocks", m.path("blocks"));
        String payload = post.toString();
        if (outbox.isPresent())
            Files.writeString(
                    outboxFile(
                            "slack", m.path("text").asText().lines().findFirst().orElse(""), ".json"),
                    payload);
        if (slackWebhook.isEmpty()) return;
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(slackWebhook.get())
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(payload, StandardCharsets.UTF_8))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 == 2) return;
        String answer = response.body().lines().findFirst().orElse("");
        // Slack answers 4xx for a revoked or wrong webhook: retrying cannot help; 429 and 5xx may pass later
        if (status / 100 == 4 && status != 429)
            throw new PermanentFailure("slack webhook refused the post: HTTP " + status + " " + answer);
        throw new IllegalStateException("slack webhook answered HTTP " + status + " " + answer);
    }

    private Path outboxFile(String kind, String title, String suffix) {
        try {
            Path dir = Files.createDirectories(outbox.orElseThrow().resolve(kind));
            String stamp = clock.instant().toString().replace(":", "").replace("-", "");
            String slug = title.replaceAll("[^A-Za-z0-9]+", "-").replaceAll("(^-|-$)", "");
            return dir.resolve(stamp + "-" + SEQUENCE.incrementAndGet() + "-"
                    + slug.substring(0, Math.min(60, slug.length())) + suffix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
