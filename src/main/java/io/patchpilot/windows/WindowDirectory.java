package io.patchpilot.windows;

import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Which environments have their own maintenance window in which account, read from the ledger's
 * {@code WINDOW} partition (sort key {@code <account>#<window name>}, account {@code *} for an
 * organization-wide window). Cached for a few seconds: tagging asks once per batch.
 */
public final class WindowDirectory {
    public static final String PARTITION = "WINDOW";
    public static final String ORGANIZATION_WIDE = "*";
    private static final Duration TTL = Duration.ofSeconds(15);

    private final Ledger ledger;
    private final Clock clock;
    private volatile Map<String, Set<String>> byAccount = Map.of();
    private volatile Instant readAt = Instant.MIN;

    public WindowDirectory(Ledger ledger, Clock clock) {
        this.ledger = ledger;
        this.clock = clock;
    }

    /** Environments with a window that covers resources of this account. */
    public Set<String> environmentsWithWindow(String account) {
        Map<String, Set<String>> all = windows();
        Set<String> envs = new HashSet<>(all.getOrDefault(ORGANIZATION_WIDE, Set.of()));
        envs.addAll(all.getOrDefault(account, Set.of()));
        return envs;
    }

    public void invalidate() {
        readAt = Instant.MIN;
    }

    private Map<String, Set<String>> windows() {
        if (Duration.between(readAt, clock.instant()).compareTo(TTL) < 0) return byAccount;
        Map<String, Set<String>> m = new HashMap<>();
        for (Map<String, AttributeValue> item : ledger.partition(PARTITION)) {
            String account = item.get("account").s();
            m.computeIfAbsent(account, a -> new HashSet<>())
                    .add(item.get("environment").s());
        }
        byAccount = m;
        readAt = clock.instant();
        return m;
    }
}
