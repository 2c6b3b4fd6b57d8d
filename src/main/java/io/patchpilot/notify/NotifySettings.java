package io.patchpilot.notify;

import io.patchpilot.config.ConfigException;
import io.patchpilot.config.Settings;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where notifications go: mail through {@code patchpilot.mail.*} (on when a host is set) to the
 * central team and the accounts' contacts, Slack through the secret webhook URL, and in local
 * mode a copy of each in the outbox folder.
 */
public record NotifySettings(
        Optional<String> mailHost,
        int mailPort,
        Optional<String> mailUser,
        Optional<String> mailPassword,
        boolean startTls,
        String from,
        List<String> centralTeam,
        Map<String, String> accountContacts,
        Optional<URI> slackWebhook,
        Optional<Path> outbox) {

    public boolean mail() {
        return mailHost.isPresent();
    }

    public boolean slack() {
        return slackWebhook.isPresent() || outbox.isPresent();
    }

    @Override
    public String toString() {
        return "NotifySettings[mailHost=" + mailHost + ", mailPort=" + mailPort + ", from=" + from + ", centralTeam="
                + centralTeam + ", slack=" + slackWebhook.isPresent() + ", outbox=" + outbox + "]";
    }

    public static NotifySettings from(Settings s) {
        Optional<URI> webhook = s.optional("patchpilot.slack.webhook-url").map(v -> {
            URI uri;
            try {
                uri = URI.create(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("patchpilot.slack.webhook-url: not a URL");
            }
            boolean loopback = "http".equals(uri.getScheme()) && "127.0.0.1".equals(uri.getHost());
            if (!"https".equals(uri.getScheme()) && !loopback)
                throw new ConfigException("patchpilot.slack.webhook-url: must be an https URL");
            return uri;
        });
        Map<String, String> contacts = new LinkedHashMap<>();
        for (String pair : s.listOrEmpty("patchpilot.notify.account-contacts")) {
            String[] kv = pair.split("=", 2);
            if (kv.length != 2
                    || !kv[0].trim().matches("\\d{12}")
                    || !kv[1].trim().matches("[^@\\s]+@[^@\\s]+")) {
                throw new ConfigException(
                        "patchpilot.notify.account-contacts: '" + pair + "' is not <12-digit account>=<mail address>");
            }
            contacts.put(kv[0].trim(), kv[1].trim());
        }
        for (String to : s.listOrEmpty("patchpilot.mail.to")) {
            if (!to.matches("[^@\\s]+@[^@\\s]+"))
                throw new ConfigException("patchpilot.mail.to: '" + to + "' is not a mail address");
        }
        return new NotifySettings(
                s.optional("patchpilot.mail.host"),
                s.intOr("patchpilot.mail.port", 587, 1, 65535),
                s.optional("patchpilot.mail.username"),
                s.optional("patchpilot.mail.password"),
                s.optional("patchpilot.mail.starttls")
                        .map(Boolean::parseBoolean)
                        .orElse(true),
                s.optional("patchpilot.mail.from").orElse("patchpilot@localhost"),
                s.listOrEmpty("patchpilot.mail.to"),
                contacts,
                webhook,
                s.optional("patchpilot.notify.outbox").map(Path::of));
    }
}
