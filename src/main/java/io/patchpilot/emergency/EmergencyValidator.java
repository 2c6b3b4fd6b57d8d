package io.patchpilot.emergency;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.errors.PermanentFailure;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Checks an emergency request and reports every problem at once, each naming its field; one
 * problem and nothing is patched. Organization membership and the override list's existence
 * are asked of AWS through the predicates given.
 */
public final class EmergencyValidator {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every field the body may carry; anything else is refused naming it. */
    public static final Set<String> FIELDS = Set.of(
            "requestId",
            "env",
            "include_asg",
            "retain_healthy_percentage",
            "refresh_asg_instances",
            "patching_operation",
            "operation_post_patching",
            "run_patch_baseline_install_override_list",
            "accounts",
            "regions",
            "reason",
            "max_concurrency",
            "max_errors");

    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern S3_URL = Pattern.compile("s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)");
    private static final Pattern RATE = Pattern.compile("\\d{1,6}|\\d{1,3}%");

    private final List<String> environments;
    private final List<String> regions;
    private final Set<String> overrideBuckets;
    private final int maxBodyBytes;
    private final Predicate<String> activeAccount;
    private final Predicate<String> overrideListExists;

    public EmergencyValidator(
            List<String> environments,
            List<String> regions,
            Set<String> overrideBuckets,
            int maxBodyBytes,
            Predicate<String> activeAccount,
            Predicate<String> overrideListExists) {
        this.environments = List.copyOf(environments);
        this.regions = List.copyOf(regions);
        this.overrideBuckets = Set.copyOf(overrideBuckets);
        this.maxBodyBytes = maxBodyBytes;
        this.activeAccount = activeAccount;
        this.overrideListExists = overrideListExists;
    }

    public EmergencyRequest validate(String body) {
        int size = body == null ? 0 : body.getBytes(StandardCharsets.UTF_8).length;
        if (size > maxBodyBytes)
            throw new PermanentFailure("body: " + size + " bytes is over the " + maxBodyBytes + "-byte limit");
        JsonNode json;
        try {
            json = body == null || body.isBlank() ? null : JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new PermanentFailure("body: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (json == null || !json.isObject()) throw new PermanentFailure("body: must be a JSON object");

        List<String> problems = new ArrayList<>();
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) problems.add(f + ": unknown field");
        }
        String requestId = string(json, "requestId", problems);
        if (requestId == null) problems.add("requestId: required (e.g. your change ticket, chg-4711)");
        else if (!REQUEST_ID.matcher(requestId).matches())
            problems.add("requestId: '" + requestId + "' must be 1-64 letters, digits, '.', '_' or '-'");

        List<String> envs = new ArrayList<>(environments);
        envs.add(0, "Default");
        envs.add("All");
        String env = string(json, "env", problems);
        if (env == null) {
            problems.add("env: required (one of " + String.join(", ", envs) + ")");
        } else {
            String given = env;
            env = envs.stream()
                    .filter(e -> e.equalsIgnoreCase(given))
                    .findFirst()
                    .orElse(null);
            if (env == null) problems.add("env: '" + given + "' is not one of " + String.join(", ", envs));
        }
        boolean includeAsg = yesNo(json, "include_asg", false, problems);
        int healthy = integer(json, "retain_healthy_percentage", 90, 10, 100, problems);
        boolean refresh = yesNo(json, "refresh_asg_instances", true, problems);
        String operation = choice(json, "patching_operation", "Install", List.of("Scan", "Install"), problems);
        String post = choice(
                json, "operation_post_patching", "RebootIfNeeded", List.of("RebootIfNeeded", "NoReboot"), problems);
        String override = overrideList(json, operation, problems);
        List<String> accounts = list(json, "accounts", problems);
        for (String a : accounts) {
            if (!a.matches("\\d{12}")) problems.add("accounts: '" + a + "' is not a 12-digit account id");
            else if (!activeAccount.test(a))
                problems.add("accounts: " + a + " is not an active account of the organization");
        }
        List<String> regionList = list(json, "regions", problems);
        for (String r : regionList) {
            if (!regions.contains(r))
                problems.add("regions: '" + r + "' is not one of the configured regions " + String.join(", ", regions));
        }
        String reason = string(json, "reason", problems);
        if (reason != null && reason.length() > 500)
            problems.add("reason: " + reason.length() + " characters is over 500");
        String maxConcurrency = rate(json, "max_concurrency", "10%", 1, problems);
        String maxErrors = rate(json, "max_errors", "10%", 0, problems);
        if (!problems.isEmpty()) throw new PermanentFailure(String.join("; ", problems));
        return new EmergencyRequest(
                requestId,
                env,
                includeAsg,
                healthy,
                refresh,
                operation,
                post,
                override,
                List.copyOf(new LinkedHashSet<>(accounts)),
                List.copyOf(new LinkedHashSet<>(regionList)),
                reason == null ? "" : reason,
                maxConcurrency,
                maxErrors);
    }

    /** Empty, or an {@code s3://} URL in an allowed bucket that exists (AWS-RunPatchBaseline reads it on each instance). */
    private String overrideList(JsonNode json, String operation, List<String> problems) {
        String field = "run_patch_baseline_install_override_list";
        String v = string(json, field, problems);
        if (v == null || v.isEmpty()) return "";
        var m = S3_URL.matcher(v);
        if (!m.matches()) {
            problems.add(field + ": '" + v + "' is not an s3://bucket/key URL");
        } else if (!overrideBuckets.contains(m.group(1))) {
            problems.add(field + ": bucket " + m.group(1) + " is not an allowed override-list bucket"
                    + (overrideBuckets.isEmpty()
                            ? " (none configured)"
                            : " ("
                                    + String.join(
                                            ", ",
                                            overrideBuckets.stream().sorted().toList()) + ")"));
        } else if (!overrideListExists.test(v)) {
            problems.add(field + ": " + v + " does not exist");
        } else if (!"Install".equals(operation)) {
            problems.add(field + ": only with patching_operation Install");
        }
        return v;
    }

    private static String string(JsonNode json, String field, List<String> problems) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) {
            problems.add(field + ": must be a string, not " + kind(v));
            return null;
        }
        return v.asText().trim();
    }

    private static boolean yesNo(JsonNode json, String field, boolean fallback, List<String> problems) {
        String v = choice(json, field, fallback ? "Yes" : "No", List.of("Yes", "No"), problems);
        return v.equals("Yes");
    }

    private static String choice(
            JsonNode json, String field, String fallback, List<String> allowed, List<String> problems) {
        String v = string(json, field, problems);
        if (v == null) return fallback;
        for (String a : allowed) if (a.equalsIgnoreCase(v)) return a;
        problems.add(field + ": '" + v + "' is not one of " + String.join(", ", allowed));
        return fallback;
    }

    private static int integer(JsonNode json, String field, int fallback, int min, int max, List<String> problems) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) return fallback;
        int n;
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            n = v.asInt();
        } else if (v.isTextual() && v.asText().trim().matches("\\d{1,3}")) {
            n = Integer.parseInt(v.asText().trim()); // the seed's payload sent numbers as strings
        } else {
            problems.add(field + ": '" + v.asText(v.toString()) + "' is not a whole number");
            return fallback;
        }
        if (n < min || n > max) problems.add(field + ": " + n + " is outside " + min + "-" + max);
        return n;
    }

    private static List<String> list(JsonNode json, String field, List<String> problems) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) {
            problems.add(field + ": must be a list of strings, not " + kind(v));
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) problems.add(field + ": " + e + " is not a string");
            else out.add(e.asText().trim());
        }
        return out;
    }

    /** SSM's MaxConcurrency/MaxErrors: a count or a percentage, at least {@code min}. */
    private static String rate(JsonNode json, String field, String fallback, int min, List<String> problems) {
        String v = string(json, field, problems);
        if (v == null) return fallback;
        if (RATE.matcher(v).matches()) {
            int n = Integer.parseInt(v.replace("%", ""));
            if (n >= min && (!v.endsWith("%") || n <= 100)) return v;
        }
        problems.add(field + ": '" + v + "' is not a count (>= " + min + ") or a percentage such as 10%");
        return fallback;
    }

    private static String kind(JsonNode v) {
        return v.isNumber()
                ? "a number"
                : v.isBoolean()
                        ? "a boolean"
                        : v.isArray()
                                ? "a list"
                                : v.isObject()
                                        ? "an object"
                                        : "a " + v.getNodeType().name().toLowerCase();
    }
}
