package io.patchpilot.emergency;

import io.patchpilot.aws.SenderIds;
import io.patchpilot.config.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who may do something, as SQS reports senders ({@code SenderId}): an IAM user's id
 * ({@code AIDA…}) or an assumed role's {@code AROA…:session}. Configured as IAM ARNs (resolved to
 * their ids once, by the resolver) or as those ids directly; a role allows every session of it.
 */
public final class Principals {
    private static final Pattern ARN =
            Pattern.compile("arn:aws[a-z-]*:iam::(\\d{12}):(user|role)/(?:[\\w+=,.@/-]*/)?([\\w+=,.@-]+)");
    private static final Pattern ID = Pattern.compile("(AIDA|AROA)[A-Z0-9]{8,}(:[\\w+=,.@-]+)?");

    /** An IAM user or role, by the name the resolver looks up. */
    public record IamName(String kind, String name) {}

    private final List<String> entries;
    private final Function<IamName, Optional<String>> resolver;
    private final Map<String, String> resolved = new ConcurrentHashMap<>();

    /** @param key the setting the entries come from, named in errors */
    public Principals(String key, List<String> entries, Function<IamName, Optional<String>> resolver) {
        for (String e : entries) {
            if (!ARN.matcher(e).matches() && !ID.matcher(e).matches()) {
                throw new ConfigException(
                        key + ": '" + e + "' is not an IAM user/role ARN or a principal id (AIDA…, AROA…[:session])");
            }
        }
        this.entries = List.copyOf(entries);
        this.resolver = resolver;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public boolean allows(String senderId) {
        if (senderId == null || senderId.isBlank()) return false;
        for (String e : entries) {
            String id = idOf(e);
            if (id == null) continue;
            if (id.startsWith("AROA") && !id.contains(":") ? senderId.startsWith(id + ":") : senderId.equals(id))
                return true;
        }
        return false;
    }

    /** The entry's principal id; an ARN is resolved once (null while IAM cannot tell). */
    private String idOf(String entry) {
        Matcher arn = ARN.matcher(entry);
        if (!arn.matches()) return entry;
        String known = resolved.get(entry);
        if (known != null) return known;
        Optional<String> id = resolver.apply(new IamName(arn.group(2), arn.group(3)));
        id.ifPresent(v -> resolved.put(entry, v));
        return id.orElse(null);
    }

    /** The {@code SenderId} among the SQS system attributes a consumer received (keys as enums or strings). */
    public static String senderOf(Map<?, ?> sqsAttributes) {
        return SenderIds.of(sqsAttributes);
    }
}
