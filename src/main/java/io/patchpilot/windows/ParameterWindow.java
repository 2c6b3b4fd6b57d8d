package io.patchpilot.windows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.windows.WindowParameters.Current;
import io.patchpilot.windows.WindowStore.Declaration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a window parameter {@code /patchpilot/windows/<Env>} in an owner's account means for the
 * ledger, decided from the parameter as it is now (never from the event that reported a change):
 * apply its window, remove the window it declared, keep things as they are, or reject it with a
 * one-line reason naming the field. The body is a {@code Window Request}'s window, validated the
 * same way; {@code Environment} may be left out (the name says it) but must not contradict it.
 */
public final class ParameterWindow {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ParameterWindow() {}

    public sealed interface Outcome permits Apply, Remove, Keep, Reject {}

    /** Store this window, declared by the parameter's version. */
    public record Apply(MaintenanceWindow window, Declaration declaration) implements Outcome {}

    /** The parameter that declared the window is gone: delete the window. */
    public record Remove(String key) implements Outcome {}

    /** Nothing to change (an older or the same version, or no parameter and no window of it). */
    public record Keep(String why) implements Outcome {}

    /** The parameter's current version cannot be applied; the window last applied stays. */
    public record Reject(String reason) implements Outcome {}

    /** The environment a parameter name declares, or empty when the name is not a window parameter. */
    public static Optional<String> environment(String name) {
        if (name == null || !name.startsWith(WindowParameters.PATH)) return Optional.empty();
        String env = name.substring(WindowParameters.PATH.length());
        return env.matches("[A-Za-z0-9_.-]{1,64}") ? Optional.of(env) : Optional.empty();
    }

    /** The window a parameter declares, its environment spelled as configured ({@code dev} -> {@code Dev_maintenance_window}). */
    public static String windowName(String name, WindowValidator validator) {
        String env = environment(name).orElseThrow();
        return validator.configuredEnvironment(env).orElse(env) + "_maintenance_window";
    }

    /**
     * @param current   the parameter as read now through the member role (empty: it does not exist)
     * @param declared  where the account's window for this environment is declared now, if it exists
     */
    public static Outcome decide(
            String name,
            String account,
            String region,
            Optional<Current> current,
            Optional<Declaration> declared,
            WindowValidator validator) {
        String env = environment(name)
                .orElseThrow(() -> new IllegalArgumentException(
                        "name: '" + name + "' is not " + WindowParameters.PATH + "<Environment>"));
        String key = account + "#" + windowName(name, validator);
        boolean declaredHere = declared.filter(Declaration::byParameter)
                .filter(d -> d.parameter().equals(name) && d.region().equals(region))
                .isPresent();
        if (current.isEmpty()) {
            return declaredHere ? new Remove(key) : new Keep("no parameter " + name + " and no window declared by it");
        }
        Current p = current.get();
        if (declaredHere) {
            Declaration d = declared.get();
            if (p.version() <= d.version() && !p.modified().isAfter(d.modified()))
                return new Keep("version " + p.version() + " is not newer than version " + d.version() + " applied");
        } else if (declared.filter(Declaration::byParameter).isPresent()) {
            Declaration d = declared.get();
            return new Reject("Environment: " + env + " is already declared by " + d.parameter() + " in " + d.region()
                    + "; declare an account's window in one region only");
        }
        if (!"String".equals(p.type()))
            return new Reject("Type: a " + p.type() + " parameter is not read; a window parameter is a String");
        JsonNode body;
        try {
            body = JSON.readTree(p.value());
        } catch (JsonProcessingException e) {
            return new Reject("Value: not JSON (" + e.getOriginalMessage() + ")");
        }
        if (body instanceof ObjectNode object) {
            JsonNode given = object.get("Environment");
            if (given == null || given.isNull()) {
                object.put("Environment", env);
            } else if (!given.asText().trim().equalsIgnoreCase(env)) {
                return new Reject("Environment: '" + given.asText() + "' does not match the parameter name " + name);
            }
        }
        try {
            return new Apply(
                    validator.validate(body, account), Declaration.parameter(name, region, p.version(), p.modified()));
        } catch (WindowValidator.InvalidWindow e) {
            return new Reject(e.getMessage());
        }
    }

    /**
     * The parameters whose state the ledger has not caught up with (an event lost or out of
     * order): one listed but not handled at its version, or handled but no longer listed.
     */
    public static List<String> toSettle(List<Current> listed, Map<String, WindowStore.Handled> handled) {
        Set<String> out = new TreeSet<>();
        Set<String> present = new TreeSet<>();
        for (Current p : listed) {
            if (environment(p.name()).isEmpty()) continue;
            present.add(p.name());
            WindowStore.Handled h = handled.get(p.name());
            if (h == null || h.version() != p.version() || !h.modified().equals(p.modified())) out.add(p.name());
        }
        for (String name : handled.keySet()) if (!present.contains(name)) out.add(name);
        return List.copyOf(out);
    }

    /**
     * A tag value SSM accepts (letters, digits, spaces and {@code _ . : / = + - @}, at most 256
     * characters): other characters become spaces, runs of spaces one, a long text is cut with "...".
     */
    public static String tagValue(String text) {
        String v = text.replaceAll("[^\\p{L}\\p{N}\\p{Z}_.:/=+\\-@]", " ")
                .replaceAll("\\s+", " ")
                .strip();
        return v.length() <= 256 ? v : v.substring(0, 253) + "...";
    }
}
