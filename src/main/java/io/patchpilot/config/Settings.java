package io.patchpilot.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolved configuration: {@code config/application.properties}, then
 * {@code config/application-<profile>.properties}, then environment overrides, then explicit
 * overrides (CLI options). Values may refer to the environment as {@code ${NAME}} or
 * {@code ${NAME:default}}; any key may also be overridden by the environment variable named like
 * the key in upper case with dots and dashes as underscores ({@code patchpilot.hub.region} ←
 * {@code PATCHPILOT_HUB_REGION}).
 */
public final class Settings {
    /** Keys whose values are secrets: never printed, never handed to Camel's property log. */
    public static final Set<String> SECRET_KEYS = Set.of(
            "patchpilot.member.external-id",
            "patchpilot.slack.webhook-url",
            "patchpilot.mail.password",
            "patchpilot.http.token");

    private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?}");

    private final Map<String, String> values;
    private final String profile;

    private Settings(String profile, Map<String, String> values) {
        this.profile = profile;
        this.values = values;
    }

    public static Settings load(
            Path configDir, String profile, Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> raw = new LinkedHashMap<>();
        readInto(configDir.resolve("application.properties"), raw, true);
        readInto(configDir.resolve("application-" + profile + ".properties"), raw, true);
        for (String key : List.copyOf(raw.keySet())) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) raw.put(key, fromEnv);
        }
        raw.putAll(overrides);
        Map<String, String> resolved = new TreeMap<>();
        raw.forEach((key, value) -> resolved.put(key, resolveEnvRefs(key, value, env)));
        resolved.put("patchpilot.profile", profile);
        return new Settings(profile, resolved);
    }

    /** For tests and tools: settings from a plain map, no files. */
    public static Settings of(String profile, Map<String, String> values) {
        Map<String, String> copy = new TreeMap<>(values);
        copy.put("patchpilot.profile", profile);
        return new Settings(profile, copy);
    }

    static String envName(String key) {
        return key.toUpperCase().replace('.', '_').replace('-', '_');
    }

    private static void readInto(Path file, Map<String, String> into, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) throw new ConfigException(file + ": configuration file not found");
            return;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(file + ": cannot be read: " + e.getMessage());
        }
        p.stringPropertyNames().forEach(k -> into.put(k, p.getProperty(k).trim()));
    }

    private static String resolveEnvRefs(String key, String value, Map<String, String> env) {
        Matcher m = ENV_REF.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String replacement = env.get(name);
            if (replacement == null) replacement = m.group(2);
            if (replacement == null) {
                throw new ConfigException(key + ": environment variable " + name + " is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    public String profile() {
        return profile;
    }

    public Optional<String> optional(String key) {
        String v = values.get(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
    }

    public String require(String key) {
        return optional(key)
                .orElseThrow(() -> new ConfigException(
                        key + ": missing (set it in config/application.properties or " + envName(key) + ")"));
    }

    public String require(String key, Pattern format, String expected) {
        String v = require(key);
        if (!format.matcher(v).matches())
            throw new ConfigException(key + ": '" + shown(key, v) + "' is not " + expected);
        return v;
    }

    public int requireInt(String key, int min, int max) {
        String v = require(key);
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": '" + v + "' is not a whole number");
        }
        if (n < min || n > max) throw new ConfigException(key + ": " + n + " is outside " + min + ".." + max);
        return n;
    }

    public int intOr(String key, int fallback, int min, int max) {
        return optional(key).isPresent() ? requireInt(key, min, max) : fallback;
    }

    public boolean requireBoolean(String key) {
        String v = require(key).toLowerCase();
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw new ConfigException(key + ": '" + v + "' is not true or false");
    }

    public List<String> requireList(String key) {
        List<String> items = new ArrayList<>();
        Arrays.stream(require(key).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .forEach(items::add);
        if (items.isEmpty()) throw new ConfigException(key + ": must list at least one value");
        return List.copyOf(items);
    }

    public List<String> listOrEmpty(String key) {
        return optional(key)
                .map(v -> Arrays.stream(v.split(","))
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .toList())
                .orElse(List.of());
    }

    /** Non-secret settings, for Camel's property placeholders ({@code {{patchpilot.queue.work}}}). */
    public Properties nonSecretProperties() {
        Properties p = new Properties();
        values.forEach((k, v) -> {
            if (!SECRET_KEYS.contains(k)) p.setProperty(k, v);
        });
        return p;
    }

    private static String shown(String key, String value) {
        return SECRET_KEYS.contains(key) ? "****" : value;
    }

    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>();
        values.forEach((k, v) -> shown.put(k, shown(k, v)));
        return "Settings" + shown;
    }
}
