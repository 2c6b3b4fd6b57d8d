package io.patchpilot.windows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Windows in the ledger's {@code WINDOW} partition, one item per {@code <account>#<name>} (so an
 * account has at most one window per environment): {@code account}, {@code environment} (what
 * tagging reads) and the whole window as JSON.
 */
public final class WindowStore {
    static final ObjectMapper JSON = json();

    /** The mapper windows are stored with (java.time as ISO text). */
    public static ObjectMapper json() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    private final Ledger ledger;
    private final WindowDirectory directory;
    private final Clock clock;

    public WindowStore(Ledger ledger, WindowDirectory directory, Clock clock) {
        this.ledger = ledger;
        this.directory = directory;
        this.clock = clock;
    }

    public enum Change {
        CREATED,
        UPDATED,
        UNCHANGED
    }

    /** Stores the window (anchored if new); re-applying the same window changes nothing. */
    public Change put(MaintenanceWindow window) {
        Optional<MaintenanceWindow> existing = get(window.key());
        MaintenanceWindow anchored = window.anchorDate() != null
                ? window
                : window.withAnchor(existing.map(MaintenanceWindow::anchorDate)
                        .filter(a -> sameCadence(existing.get(), window))
                        .orElse(WindowSchedule.anchorFor(window, clock.instant())));
        if (existing.isPresent() && existing.get().equals(anchored)) return Change.UNCHANGED;
        ledger.put(item(anchored));
        directory.invalidate();
        return existing.isPresent() ? Change.UPDATED : Change.CREATED;
    }

    /** Creates the window only if none has its key (replicas starting together create it once). */
    public boolean putIfAbsent(MaintenanceWindow window) {
        boolean created = ledger.putIfAbsent(item(window));
        if (created) directory.invalidate();
        return created;
    }

    public Optional<MaintenanceWindow> get(String key) {
        return ledger.get(WindowDirectory.PARTITION, key).map(WindowStore::window);
    }

    public List<MaintenanceWindow> list() {
        return ledger.partition(WindowDirectory.PARTITION).stream()
                .map(WindowStore::window)
                .toList();
    }

    public boolean delete(String key) {
        boolean deleted = ledger.delete(WindowDirectory.PARTITION, key);
        directory.invalidate();
        return deleted;
    }

    private static boolean sameCadence(MaintenanceWindow a, MaintenanceWindow b) {
        return a.weekday() == b.weekday() && a.frequencyDays() == b.frequencyDays() && a.startHour() == b.startHour();
    }

    private static Map<String, AttributeValue> item(MaintenanceWindow w) {
        Map<String, AttributeValue> item = Ledger.item(WindowDirectory.PARTITION, w.key());
        item.put("account", Ledger.s(w.organizationWide() ? WindowDirectory.ORGANIZATION_WIDE : w.account()));
        item.put("environment", Ledger.s(w.environment()));
        item.put("name", Ledger.s(w.name()));
        try {
            item.put("window", Ledger.s(JSON.writeValueAsString(w)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode window " + w.key(), e);
        }
        return item;
    }

    private static MaintenanceWindow window(Map<String, AttributeValue> item) {
        try {
            return JSON.readValue(item.get("window").s(), MaintenanceWindow.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "window " + item.get("sk").s() + " in the ledger cannot be read: " + e.getOriginalMessage(), e);
        }
    }
}
