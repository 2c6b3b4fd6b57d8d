package io.patchpilot.windows;

/** Which instances a run is about: those with a tag value, or all of them (an emergency for All). */
public record Selection(String tagKey, String tagValue) {
    public static Selection window(String windowName) {
        return new Selection("maintenance_window", windowName);
    }

    public static Selection environment(String environment) {
        return new Selection("environment", environment);
    }

    public static Selection all() {
        return new Selection(null, null);
    }
}
