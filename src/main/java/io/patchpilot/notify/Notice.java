package io.patchpilot.notify;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;
import java.util.Optional;

/**
 * One thing worth telling people: a subject line, a plain-text and an HTML body, the mail
 * recipients, whether the team's Slack channel hears of it too (as Block Kit blocks when given), and
 * files (in S3) to attach.
 */
public record Notice(
        String subject,
        String text,
        String html,
        List<String> mailTo,
        boolean slack,
        List<Attachment> attachments,
        Optional<ArrayNode> slackBlocks,
        Optional<String> slackText) {
    /** A file in S3 the mail carries, under the given name. */
    public record Attachment(String name, String bucket, String key) {}

    public Notice {
        mailTo = List.copyOf(mailTo);
        attachments = List.copyOf(attachments);
    }

    public Notice(String subject, String text, String html, List<String> mailTo, boolean slack) {
        this(subject, text, html, mailTo, slack, List.of());
    }

    public Notice(
            String subject,
            String text,
            String html,
            List<String> mailTo,
            boolean slack,
            List<Attachment> attachments) {
        this(subject, text, html, mailTo, slack, attachments, Optional.empty(), Optional.empty());
    }

    /** The same notice, posted to Slack as these Block Kit blocks (the text stays the notification's fallback). */
    public Notice withSlackBlocks(ArrayNode blocks) {
        return new Notice(subject, text, html, mailTo, slack, attachments, Optional.of(blocks), slackText);
    }

    /** The same notice, posted to Slack as these blocks with this fallback text instead of the mail's text. */
    public Notice withSlack(ArrayNode blocks, String fallback) {
        return new Notice(subject, text, html, mailTo, slack, attachments, Optional.of(blocks), Optional.of(fallback));
    }
}
