package io.patchpilot.windows;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks window parameters and reports every problem at once, each naming its field. Missing
 * optional fields take the seed product's defaults (frequency 7, Friday, 05 UTC, Install,
 * RebootIfNeeded, ASGs not included, refresh Yes) with patchpilot's safer 90 % healthy and a
 * 4 h window with 1 h cutoff.
 */
public final class WindowValidator {
    /** Every field the body may carry; anything else is refused naming it. */
    public static final Set<String> FIELDS = Set.of(
            "Account",
            "Environment",
            "PatchingFrequency",
            "PatchingWindowWeekday",
            "PatchingWindowStartTime",
            "PatchingWindowDuration",
            "CutoffHours",
            "PatchingOperation",
            "OperationPostPatching",
            "IncludeASG",
            "RetainHealthyPercentage",
            "RefreshASGInstances",
            "CronExpression",
            "PatchTuesdayOffsetDays",
            "TimeZone",
            "MaxConcurrency",
            "MaxErrors",
            "PredecessorWindow",
            "SoakHours",
            "MaxFailurePercent",
            "PreInstallHookDocName",
            "PostInstallHookDocName",
            "OnExitHookDocName");
    /** An SSM document name, or the ARN of one shared from another account. */
    private static final Pattern DOCUMENT = Pattern.compile(
            "[a-zA-Z0-9_.-]{3,128}|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\\d{12}:document/[a-zA-Z0-9_.-]{3,128}");

    private final List<String> environments;

    public WindowValidator(List<String> environments) {
        this.environments = List.copyOf(environments);
    }

    /** The configured spelling of an environment given in any case; empty when it is not configured. */
    public Optional<String> configuredEnvironment(String given) {
        return environments.stream().filter(e -> e.equalsIgnoreCase(given)).findFirst();
    }

    /** The problems found, each "Field: what is wrong"; empty when the window is valid. */
    public static final class InvalidWindow extends IllegalArgumentException {
        private final List<String> problems;

        InvalidWindow(List<String> problems) {
            super(String.join("; ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    /**
     * @param owner the account the window belongs to (the requester), or null for an
     *              organization-wide window created by the central team
     */
    public MaintenanceWindow validate(JsonNode json, String owner) {
        List<String> problems = new ArrayList<>();
        if (json == null || !json.isObject()) throw new InvalidWindow(List.of("window: must be a JSON object"));
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) problems.add(f + ": unknown field");
        }
        String account = text(json, "Account");
        if (account != null && !account.equals(owner)) {
            problems.add("Account: " + account + " is not "
                    + (owner == null ? "allowed for an organization-wide window" : "the requesting account " + owner));
        }
        String environment = text(json, "Environment");
        if (environment == null) {
            problems.add("Environment: required (one of " + String.join(", ", environments) + ")");
        } else if (environment.equalsIgnoreCase(MaintenanceWindow.DEFAULT_ENVIRONMENT)) {
            if (owner != null)
                problems.add("Environment: Default is the organization-wide window; choose one of "
                        + String.join(", ", environments));
            environment = MaintenanceWindow.DEFAULT_ENVIRONMENT;
        } else {
            String given = environment;
            environment = environments.stream()
                    .filter(e -> e.equalsIgnoreCase(given))
                    .findFirst()
                    .orElse(null);
            if (environment == null)
                problems.add("Environment: '" + given + "' is not one of " + String.join(", ", environments));
        }
        int frequency = integer(json, "PatchingFrequency", 7, 7, 42, problems);
        if (frequency % 7 != 0)
            problems.add("PatchingFrequency: " + frequency + " is not a multiple of 7 (7, 14, 21, 28, 35, 42)");
        DayOfWeek weekday = weekday(json, problems);
        int start = integer(json, "PatchingWindowStartTime", 5, 0, 23, problems);
        int duration = integer(json, "PatchingWindowDuration", 4, 1, 23, problems);
        int cutoff = integer(json, "CutoffHours", 1, 0, 22, problems);
        if (cutoff >= duration)
            problems.add("CutoffHours: " + cutoff + " must be less than PatchingWindowDuration " + duration);
        String operation = choice(json, "PatchingOperation", "Install", List.of("Scan", "Install"), problems);
        String post = choice(
                json, "OperationPostPatching", "RebootIfNeeded", List.of("RebootIfNeeded", "NoReboot"), problems);
        String includeAsg = choice(json, "IncludeASG", "No", List.of("Yes", "No"), problems);
        int healthy = integer(json, "RetainHealthyPercentage", 90, 10, 100, problems);
        String refresh = choice(json, "RefreshASGInstances", "Yes", List.of("Yes", "No"), problems);
        String cron = text(json, "CronExpression");
        if (cron != null) {
            try {
                AwsCron.parse(cron);
            } catch (IllegalArgumentException e) {
                problems.add("CronExpression: " + e.getMessage());
            }
        }
        Integer offset =
                json.has("PatchTuesdayOffsetDays") ? integer(json, "PatchTuesdayOffsetDays", 0, 0, 20, problems) : null;
        if (offset != null && cron != null)
            problems.add("PatchTuesdayOffsetDays: cannot be combined with CronExpression");
        String zone = text(json, "TimeZone");
        if (zone != null) {
            try {
                ZoneId.of(zone);
            } catch (DateTimeException e) {
                problems.add("TimeZone: '" + zone + "' is not a time zone such as Europe/Berlin");
            }
        }
        String maxConcurrency = rate(json, "MaxConcurrency", "10%", 1, problems);
        String maxErrors = rate(json, "MaxErrors", "10%", 0, problems);
        String predecessor = text(json, "PredecessorWindow");
        if (predecessor != null) {
            String given = predecessor.replace("_maintenance_window", "");
            predecessor = given.equalsIgnoreCase(MaintenanceWindow.DEFAULT_ENVIRONMENT)
                    ? MaintenanceWindow.DEFAULT_ENVIRONMENT
                    : environments.stream()
                            .filter(e -> e.equalsIgnoreCase(given))
                            .findFirst()
                            .orElse(null);
            if (predecessor == null)
                problems.add(
                        "PredecessorWindow: '" + given + "' is not one of Default, " + String.join(", ", environments));
            else if (predecessor.equals(environment)) problems.add("PredecessorWindow: a window cannot follow itself");
        }
        Integer soak =
                json.has("SoakHours") || predecessor != null ? integer(json, "SoakHours", 24, 0, 720, problems) : null;
        Integer maxFailure = json.has("MaxFailurePercent") || predecessor != null
                ? integer(json, "MaxFailurePercent", 10, 0, 100, problems)
                : null;
        if (predecessor == null && (json.has("SoakHours") || json.has("MaxFailurePercent"))) {
            problems.add("SoakHours/MaxFailurePercent: only with PredecessorWindow");
        }
        String preHook = hook(json, "PreInstallHookDocName", operation, problems);
        String postHook = hook(json, "PostInstallHookDocName", operation, problems);
        String exitHook = hook(json, "OnExitHookDocName", operation, problems);
        if (!problems.isEmpty()) throw new InvalidWindow(problems);
        return new MaintenanceWindow(
                owner,
                environment,
                frequency,
                weekday,
                start,
                duration,
                cutoff,
                operation,
                post,
                includeAsg,
                healthy,
                refresh,
                cron,
                offset,
                zone == null ? "UTC" : zone,
                maxConcurrency,
                maxErrors,
                predecessor,
                soak,
                maxFailure,
                null,
                preHook,
                postHook,
                exitHook);
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.get(field);
        return v == null || v.isNull() ? null : v.asText().trim();
    }

    /** Numbers may come as numbers or strings ("05", as the seed's product sent them). */
    private static int integer(JsonNode json, String field, int fallback, int min, int max, List<String> problems) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) return fallback;
        int n;
        if (v.isIntegralNumber()) {
            n = v.asInt();
        } else if (v.isTextual() && v.asText().trim().matches("\\d{1,3}")) {
            n = Integer.parseInt(v.asText().trim());
        } else {
            problems.add(field + ": '" + v.asText() + "' is not a whole number");
            return fallback;
        }
        if (n < min || n > max) problems.add(field + ": " + n + " is outside " + min + "-" + max);
        return n;
    }

    private static String choice(
            JsonNode json, String field, String fallback, List<String> allowed, List<String> problems) {
        String v = text(json, field);
        if (v == null) return fallback;
        for (String a : allowed) if (a.equalsIgnoreCase(v)) return a;
        problems.add(field + ": '" + v + "' is not one of " + String.join(", ", allowed));
        return fallback;
    }

    private static DayOfWeek weekday(JsonNode json, List<String> problems) {
        String v = text(json, "PatchingWindowWeekday");
        if (v == null) return DayOfWeek.FRIDAY;
        try {
            return DayOfWeek.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problems.add("PatchingWindowWeekday: '" + v + "' is not a weekday (Monday-Sunday)");
            return DayOfWeek.FRIDAY;
        }
    }

    /** A lifecycle hook document; hooks run around an Install only (AWS-RunPatchBaselineWithHooks). */
    private static String hook(JsonNode json, String field, String operation, List<String> problems) {
        String v = text(json, field);
        if (v == null || v.isEmpty()) return null;
        if (!DOCUMENT.matcher(v).matches()) {
            problems.add(field + ": '" + v + "' is not an SSM document name or ARN");
        } else if (!"Install".equals(operation)) {
            problems.add(field + ": hooks run only with PatchingOperation Install");
        }
        return v;
    }

    /** SSM's MaxConcurrency/MaxErrors: a count or a percentage. */
    private static String rate(JsonNode json, String field, String fallback, int min, List<String> problems) {
        String v = text(json, field);
        if (v == null) return fallback;
        if (v.matches("\\d{1,3}%")) {
            int p = Integer.parseInt(v.substring(0, v.length() - 1));
            if (p >= min && p <= 100) return v;
        } else if (v.matches("\\d{1,6}") && Integer.parseInt(v) >= min) {
            return v;
        }
        problems.add(field + ": '" + v + "' is not a count (>= " + min + ") or a percentage such as 10%");
        return fallback;
    }
}
