package io.patchpilot.windows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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

    /**
     * Where a window is declared: an SSM parameter {@code /patchpilot/windows/<Env>} in the owner's
     * account (with the region, the version applied and its modification time), a self-service
     * {@code Window Request}, the CLI, or the service (the Default window). Windows stored before
     * declarations were kept read as CLI.
     */
    public record Declaration(String source, String parameter, String region, long version, Instant modified) {
        public static final String PARAMETER = "parameter";
        public static final String REQUEST = "request";
        public static final String CLI = "cli";
        /** The organization-wide Default window the service creates at its first start. */
        public static final String SERVICE = "service";
        /** Moved from the AWS sample's SSM maintenance window by {@code patchpilot migrate seed}. */
        public static final String MIGRATION = "migration";

        public static Declaration request() {
            return new Declaration(REQUEST, null, null, 0, null);
        }

        public static Declaration cli() {
            return new Declaration(CLI, null, null, 0, null);
        }

        public static Declaration migration() {
            return new Declaration(MIGRATION, null, null, 0, null);
        }

        public static Declaration parameter(String name, String region, long version, Instant modified) {
            return new Declaration(PARAMETER, name, region, version, modified);
        }

        public boolean byParameter() {
            return PARAMETER.equals(source);
        }

        /** "parameter /patchpilot/windows/Dev (us-east-1, version 3)", "request" or "cli". */
        public String describe() {
            return byParameter() ? source + " " + parameter + " (" + region + ", version " + version + ")" : source;
        }
    }

    /** Stores the window (anchored if new), declared by the CLI; re-applying the same window changes nothing. */
    public Change put(MaintenanceWindow window) {
        return put(window, Declaration.cli());
    }

    /** Stores the window (anchored if new) and where it is declared; the same window and declaration change nothing. */
    public Change put(MaintenanceWindow window, Declaration declaration) {
        Optional<Map<String, AttributeValue>> item = ledger.get(WindowDirectory.PARTITION, window.key());
        Optional<MaintenanceWindow> existing = item.map(WindowStore::window);
        MaintenanceWindow anchored = window.anchorDate() != null
                ? window
                : window.withAnchor(existing.map(MaintenanceWindow::anchorDate)
                        .filter(a -> sameCadence(existing.get(), window))
                        .orElse(WindowSchedule.anchorFor(window, clock.instant())));
        if (existing.isPresent()
                && existing.get().equals(anchored)
                && declaration(item.get()).equals(declaration)) return Change.UNCHANGED;
        ledger.put(item(anchored, declaration));
        directory.invalidate();
        return existing.isPresent() ? Change.UPDATED : Change.CREATED;
    }

    /** The ledger partition of the window parameters' versions handled (applied or rejected). */
    public static final String PARAMETERS = "WINDOW_PARAMETER";

    /** The version of a window parameter last handled (applied or rejected), by parameter name. */
    public record Handled(long version, Instant modified) {}

    /** Records that this version of the parameter was handled (applied or rejected): the sweep leaves it alone. */
    public void handled(String account, String region, String name, Handled handled) {
        Map<String, AttributeValue> item = Ledger.item(PARAMETERS, account + "#" + region + "#" + name);
        item.put("version", AttributeValue.fromN(Long.toString(handled.version())));
        item.put("modified", Ledger.s(handled.modified().toString()));
        ledger.put(item);
    }

    /** The parameter is gone: nothing of it is handled any more. */
    public void forget(String account, String region, String name) {
        ledger.delete(PARAMETERS, account + "#" + region + "#" + name);
    }

    /** The window parameters of one account-region handled so far, by name. */
    public Map<String, Handled> handled(String account, String region) {
        String prefix = account + "#" + region + "#";
        Map<String, Handled> out = new TreeMap<>();
        for (Map<String, AttributeValue> item : ledger.between(PARAMETERS, prefix, prefix + "~")) {
            out.put(
                    item.get("sk").s().substring(prefix.length()),
                    new Handled(
                            Long.parseLong(item.get("version").n()),
                            Instant.parse(item.get("modified").s())));
        }
        return out;
    }

    /** Where the window with this key is declared; empty when there is no such window. */
    public Optional<Declaration> declaration(String key) {
        return ledger.get(WindowDirectory.PARTITION, key).map(WindowStore::declaration);
    }

    /** Creates the window only if none has its key (replicas starting together create it once), declared by the service. */
    public boolean putIfAbsent(MaintenanceWindow window) {
        boolean created = ledger.putIfAbsent(item(window, new Declaration(Declaration.SERVICE, null, null, 0, null)));
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

    private static Map<String, AttributeValue> item(MaintenanceWindow w, Declaration d) {
        Map<String, AttributeValue> item = Ledger.item(WindowDirectory.PARTITION, w.key());
        item.put("declaredBy", Ledger.s(d.source()));
        if (d.byParameter()) {
            item.put("parameter", Ledger.s(d.parameter()));
            item.put("parameterRegion", Ledger.s(d.region()));
            item.put("parameterVersion", AttributeValue.fromN(Long.toString(d.version())));
            item.put("parameterModified", Ledger.s(d.modified().toString()));
        }
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

    private static Declaration declaration(Map<String, AttributeValue> item) {
        AttributeValue source = item.get("declaredBy");
        if (source == null) return Declaration.cli();
        if (!Declaration.PARAMETER.equals(source.s())) return new Declaration(source.s(), null, null, 0, null);
        return Declaration.parameter(
                item.get("parameter").s(),
                item.get("parameterRegion").s(),
                Long.parseLong(item.get("parameterVersion").n()),
                Instant.parse(item.get("parameterModified").s()));
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
