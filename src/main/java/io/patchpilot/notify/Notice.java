package io.patchpilot.notify;

import java.util.List;

/**
 * One thing worth telling people: a subject line, a plain-text and an HTML body, the mail
 * recipients, and whether the team's Slack channel hears of it too.
 */
public record Notice(String subject, String text, String html, List<String> mailTo, boolean slack) {
    public Notice {
        mailTo = List.copyOf(mailTo);
    }
}
