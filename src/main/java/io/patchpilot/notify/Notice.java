package io.patchpilot.notify;

import java.util.List;

/**
 * One thing worth telling people: a subject line, a plain-text and an HTML body, the mail
 * recipients, whether the team's Slack channel hears of it too, and files (in S3) to attach.
 */
public record Notice(
        String subject, String text, String html, List<String> mailTo, boolean slack, List<Attachment> attachments) {
    /** A file in S3 the mail carries, under the given name. */
    public record Attachment(String name, String bucket, String key) {}

    public Notice {
        mailTo = List.copyOf(mailTo);
        attachments = List.copyOf(attachments);
    }

    public Notice(String subject, String text, String html, List<String> mailTo, boolean slack) {
        this(subject, text, html, mailTo, slack, List.of());
    }
}
