package io.patchpilot.windows;

import java.util.regex.Pattern;

/**
 * The name people read for a window: {@code Default_maintenance_window (organization)} or
 * {@code Dev_maintenance_window (111122223333)}. The ledger keys windows as {@code <account>#<name>}
 * ({@code *} for the organization); that scheme stays in the ledger, and everything a person or a
 * client reads goes through here.
 */
public final class WindowNames {
    static final String ORGANIZATION = "organization";
    private static final String EMERGENCY = "emergency:";

    private WindowNames() {}

    public static String display(MaintenanceWindow w) {
        return display(w.key());
    }

    /**
     * A run's {@code window} as recorded: a window key, or an emergency run's label
     * ({@code emergency:<env>} → {@code emergency (<env>)}); anything else as it is.
     */
    public static String display(String recorded) {
        if (recorded == null) return "";
        if (recorded.startsWith(EMERGENCY)) return "emergency (" + recorded.substring(EMERGENCY.length()) + ")";
        int hash = recorded.indexOf('#');
        if (hash <= 0) return recorded;
        String owner = recorded.substring(0, hash);
        String name = recorded.substring(hash + 1);
        return name + " (" + (owner.equals(WindowDirectory.ORGANIZATION_WIDE) ? ORGANIZATION : owner) + ")";
    }

    /** The window's name without its owner: {@code Dev_maintenance_window}; an emergency's label as displayed. */
    public static String name(String recorded) {
        if (recorded == null) return "";
        int hash = recorded.indexOf('#');
        return hash > 0 && !recorded.startsWith(EMERGENCY) ? recorded.substring(hash + 1) : display(recorded);
    }

    /** The owning account, or {@code organization} for an organization-wide window (and anything not a window key). */
    public static String scope(String recorded) {
        if (recorded == null || recorded.startsWith(EMERGENCY)) return ORGANIZATION;
        int hash = recorded.indexOf('#');
        if (hash <= 0) return ORGANIZATION;
        String owner = recorded.substring(0, hash);
        return owner.equals(WindowDirectory.ORGANIZATION_WIDE) ? ORGANIZATION : owner;
    }

    /** True when the text carries a window's ledger key ({@code *#…_maintenance_window} or {@code <12 digits>#…}). */
    public static boolean containsLedgerKey(String text) {
        return text != null && LEDGER_KEY.matcher(text).find();
    }

    private static final Pattern LEDGER_KEY = Pattern.compile("(\\*|\\b\\d{12})#\\w*_maintenance_window");
}
