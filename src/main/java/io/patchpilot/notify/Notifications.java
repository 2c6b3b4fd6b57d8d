package io.patchpilot.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.patching.RunFigures;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Turns patchpilot's events into one {@code notify-email} and one {@code notify-slack} work
 * message each (when those channels are configured), so a channel that is down is retried on
 * its own and never makes the other send twice.
 */
public final class Notifications {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Notices notices;
    private final Function<String, Optional<RunFigures>> figuresOfRun;
    private final QueueSender work;
    private final boolean mail;
    private final boolean slack;

    public Notifications(
            Notices notices,
            Function<String, Optional<RunFigures>> figuresOfRun,
            QueueSender work,
            boolean mail,
            boolean slack) {
        this.notices = notices;
        this.figuresOfRun = figuresOfRun;
        this.work = work;
        this.mail = mail;
        this.slack = slack;
    }

    /** Called with each event patchpilot publishes; leaves the event as it is. */
    public void announce(PutEventsRequest events) {
        List<String> messages = new ArrayList<>();
        for (PutEventsRequestEntry e : events.entries()) {
            JsonNode detail = read(e.detail());
            Optional<RunFigures> figures = e.detailType().equals("Patch Run Completed")
                    ? figuresOfRun.apply(detail.path("runId").asText())
                    : Optional.empty();
            Optional<Notice> notice = notices.of(e.detailType(), detail, figures);
            if (notice.isEmpty()) continue;
            messages.addAll(messagesFor(notice.get()));
        }
        if (!messages.isEmpty()) work.send(messages);
    }

    /** Sends a notice that is not an event's (reports): one message per configured channel. */
    public void send(List<Notice> notices) {
        List<String> messages = new ArrayList<>();
        notices.forEach(n -> messages.addAll(messagesFor(n)));
        if (!messages.isEmpty()) work.send(messages);
    }

    List<String> messagesFor(Notice n) {
        List<String> out = new ArrayList<>();
        if (mail && !n.mailTo().isEmpty()) {
            ObjectNode m = JSON.createObjectNode()
                    .put("type", "notify-email")
                    .put("subject", n.subject())
                    .put("text", n.text())
                    .put("html", n.html());
            n.mailTo().forEach(m.putArray("to")::add);
            var files = m.putArray("attachments");
            n.attachments()
                    .forEach(a -> files.addObject()
                            .put("name", a.name())
                            .put("bucket", a.bucket())
                            .put("key", a.key()));
            out.add(m.toString());
        }
        if (slack && n.slack()) {
            ObjectNode m = JSON.createObjectNode()
                    .put("type", "notify-slack")
                    .put("text", n.slackText().orElse(n.text()));
            n.slackBlocks().ifPresent(b -> m.set("blocks", b));
            out.add(m.toString());
        }
        return out;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event detail is not JSON", e);
        }
    }
}
