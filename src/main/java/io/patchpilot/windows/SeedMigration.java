package io.patchpilot.windows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.windows.WindowStore.Declaration;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Moving the AWS sample's SSM maintenance windows ({@code <Env>_maintenance_window} in each member
 * account × region) to patchpilot: what window each becomes ({@link #map}) and what a migration
 * run does with it ({@link #decide}): create the window and disable the sample's, only disable the
 * sample's (patchpilot already has that window), nothing (already migrated), or leave it alone
 * with the reason. The mapped window is validated exactly as a {@code Window Request}.
 */
public final class SeedMigration {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The sample's window names; anything else in the account is not the sample's and is not touched. */
    private static final Pattern NAME = Pattern.compile("([A-Za-z0-9]+)_maintenance_window");

    private static final Pattern RATE_DAYS = Pattern.compile("rate\\((\\d+) days?\\)");

    private SeedMigration() {}

    /** A sample window as read from SSM (DescribeMaintenanceWindows and its tasks). */
    public record SampleWindow(
            String id,
            String name,
            boolean enabled,
            String schedule,
            String scheduleTimezone,
            Integer scheduleOffset,
            String startDate,
            String endDate,
            int duration,
            int cutoff,
            List<SampleTask> tasks) {
        public SampleWindow {
            tasks = List.copyOf(tasks);
        }
    }

    /** A registered task: its type, ARN and, for a Lambda task, the payload it is invoked with. */
    public record SampleTask(String id, String type, String arn, String payload) {}

    /** Whether the name is the sample's {@code <Env>_maintenance_window}. */
    public static boolean isSampleName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public sealed interface Mapping permits Mapped, Unmappable {}

    /** The patchpilot window the sample's becomes (organization-wide for {@code Default_maintenance_window}). */
    public record Mapped(MaintenanceWindow window) implements Mapping {}

    /** Why the window cannot become a patchpilot window: one line naming the field. */
    public record Unmappable(String reason) implements Mapping {}

    /**
     * The patchpilot window the sample's window becomes for {@code account}: the schedule
     * ({@code rate(N days)} from its StartDate: that weekday and hour every N days; or a UTC cron),
     * Duration, Cutoff, and from its Lambda tasks' payloads the patching operation, post-patching
     * operation, include ASG (an ASG task is registered), retain healthy percentage and refresh.
     */
    public static Mapping map(SampleWindow w, String account, WindowValidator validator) {
        Matcher name = NAME.matcher(w.name());
        if (!name.matches()) return new Unmappable("Name: '" + w.name() + "' is not <Env>_maintenance_window");
        String env = name.group(1);
        boolean organizationWide = env.equalsIgnoreCase(MaintenanceWindow.DEFAULT_ENVIRONMENT);
        ObjectNode json = JSON.createObjectNode().put("Environment", env);
        if (w.endDate() != null && !w.endDate().isBlank())
            return new Unmappable("EndDate: the window ends on " + w.endDate() + "; patchpilot windows do not end");
        String zone = w.scheduleTimezone() == null || w.scheduleTimezone().isBlank() ? "UTC" : w.scheduleTimezone();
        ZoneId zoneId;
        try {
            zoneId = ZoneId.of(zone);
        } catch (DateTimeException e) {
            return new Unmappable("ScheduleTimezone: '" + zone + "' is not a time zone");
        }
        String schedule = w.schedule() == null ? "" : w.schedule().trim();
        Matcher rate = RATE_DAYS.matcher(schedule);
        ZonedDateTime start = null;
        if (rate.matches()) {
            if (w.startDate() == null || w.startDate().isBlank())
                return new Unmappable("StartDate: " + schedule + " without a StartDate has no weekday or hour");
            try {
                start = OffsetDateTime.parse(w.startDate()).atZoneSameInstant(zoneId);
            } catch (DateTimeException e) {
                return new Unmappable("StartDate: '" + w.startDate() + "' is not a date-time");
            }
            if (start.getMinute() != 0 || start.getSecond() != 0)
                return new Unmappable("StartDate: " + w.startDate() + " is not on the hour; patchpilot windows open on"
                        + " the hour");
            json.put("PatchingFrequency", Integer.parseInt(rate.group(1)));
            json.put("PatchingWindowWeekday", pretty(start.getDayOfWeek().name()));
            json.put("PatchingWindowStartTime", start.getHour());
            if (!zone.equals("UTC")) json.put("TimeZone", zone);
        } else if (schedule.startsWith("cron(") && schedule.endsWith(")")) {
            if (!zone.equals("UTC") && !zone.equals("Etc/UTC"))
                return new Unmappable("ScheduleTimezone: " + zone + " with a cron schedule; patchpilot's cron"
                        + " windows are UTC (use a rate(N days) window or set it by hand)");
            if (w.scheduleOffset() != null && w.scheduleOffset() != 0)
                return new Unmappable("ScheduleOffset: " + w.scheduleOffset() + " days after the cron date is not"
                        + " supported; use PatchTuesdayOffsetDays by hand");
            String[] fields =
                    schedule.substring(5, schedule.length() - 1).trim().split("\\s+");
            // a leading seconds field, as the sample's Default window has: cron(0 0 5 ? * FRI *)
            if (fields.length == 7 && fields[0].equals("0")) fields = Arrays.copyOfRange(fields, 1, 7);
            json.put("CronExpression", "cron(" + String.join(" ", fields) + ")");
        } else {
            return new Unmappable(
                    "Schedule: " + (schedule.isEmpty() ? "none" : schedule) + " is neither rate(N days) nor cron(...)");
        }
        json.put("PatchingWindowDuration", w.duration());
        json.put("CutoffHours", w.cutoff());

        if (w.tasks().isEmpty()) return new Unmappable("Tasks: none registered; the window patches nothing");
        List<JsonNode> standalone = new ArrayList<>();
        List<JsonNode> asg = new ArrayList<>();
        for (SampleTask t : w.tasks()) {
            if (!"LAMBDA".equals(t.type()))
                return new Unmappable("Tasks: " + t.id() + " is a " + t.type() + " task, not the sample's Lambda task");
            JsonNode payload;
            try {
                payload = t.payload() == null ? null : JSON.readTree(t.payload());
            } catch (JsonProcessingException e) {
                payload = null;
            }
            if (payload == null || !payload.isObject())
                return new Unmappable("Tasks: " + t.id() + " has no JSON payload (not the sample's task)");
            String taskEnv = payload.path("env").asText(env);
            if (!taskEnv.equalsIgnoreCase(env))
                return new Unmappable("Tasks: " + t.id() + " patches env '" + taskEnv + "', not " + env);
            (payload.has("refresh_asg_instances") ? asg : standalone).add(payload);
        }
        List<JsonNode> all = new ArrayList<>(standalone);
        all.addAll(asg);
        for (String[] f : new String[][] {
            {"patching_operation", "PatchingOperation"},
            {"operation_post_patching", "OperationPostPatching"},
            {"retain_healthy_percentage", "RetainHealthyPercentage"}
        }) {
            Optional<String> value;
            try {
                value = agreed(all, f[0]);
            } catch (IllegalArgumentException e) {
                return new Unmappable("Tasks: " + e.getMessage());
            }
            value.ifPresent(v -> json.put(f[1], v));
        }
        boolean includeAsg = !asg.isEmpty()
                || standalone.stream()
                        .anyMatch(p -> p.path("include_asg").asText().equalsIgnoreCase("Yes"));
        json.put("IncludeASG", includeAsg ? "Yes" : "No");
        try {
            agreed(asg, "refresh_asg_instances").ifPresent(v -> json.put("RefreshASGInstances", v));
        } catch (IllegalArgumentException e) {
            return new Unmappable("Tasks: " + e.getMessage());
        }
        MaintenanceWindow window;
        try {
            window = validator.validate(json, organizationWide ? null : account);
        } catch (WindowValidator.InvalidWindow e) {
            return new Unmappable(e.getMessage());
        }
        return new Mapped(start == null ? window : window.withAnchor(start.toLocalDate()));
    }

    /** The value every payload that has the field gives it; empty when none has it. */
    private static Optional<String> agreed(List<JsonNode> payloads, String field) {
        Set<String> values = new LinkedHashSet<>();
        for (JsonNode p : payloads)
            if (p.hasNonNull(field)) values.add(p.get(field).asText().trim());
        if (values.size() > 1) throw new IllegalArgumentException("tasks disagree on " + field + " " + values);
        return values.stream().findFirst();
    }

    private static String pretty(String upper) {
        return upper.charAt(0) + upper.substring(1).toLowerCase(Locale.ROOT);
    }

    public enum Step {
        /** Create the patchpilot window, then disable the sample's. */
        CREATE_AND_DISABLE,
        /** patchpilot already has this window: only disable the sample's. */
        DISABLE,
        /** The window exists in patchpilot and the sample's is disabled: nothing to do. */
        ALREADY_MIGRATED,
        /** Not migrated, not disabled: see the reason. */
        LEAVE
    }

    public record Decision(Step step, MaintenanceWindow window, String why) {}

    /**
     * What a migration run does with a sample window, given its mapping and the patchpilot window
     * with the same key now (the organization-wide Default for {@code Default_maintenance_window}).
     * Idempotent: after CREATE_AND_DISABLE or DISABLE, the next decision is ALREADY_MIGRATED.
     *
     * @param now the time the next openings are compared from
     */
    public static Decision decide(
            SampleWindow sample,
            Mapping mapping,
            Optional<MaintenanceWindow> existing,
            Optional<Declaration> declared,
            Instant now) {
        if (mapping instanceof Unmappable u) return new Decision(Step.LEAVE, null, u.reason());
        MaintenanceWindow mapped = ((Mapped) mapping).window();
        String owner = mapped.organizationWide() ? "the organization" : mapped.account();
        if (existing.isPresent()) {
            List<String> differences = differences(existing.get(), mapped, now);
            if (!differences.isEmpty()) {
                String by = declared.map(Declaration::describe).orElse(Declaration.CLI);
                return new Decision(
                        Step.LEAVE,
                        mapped,
                        "patchpilot already has " + mapped.name() + " for " + owner + " (declared by " + by
                                + ") and it differs in " + String.join(", ", differences)
                                + "; change one of them to match, then run again");
            }
            return sample.enabled()
                    ? new Decision(
                            Step.DISABLE,
                            existing.get(),
                            "patchpilot already has " + mapped.name() + " for " + owner + " as mapped")
                    : new Decision(Step.ALREADY_MIGRATED, existing.get(), "already migrated");
        }
        if (mapped.organizationWide())
            return new Decision(
                    Step.LEAVE,
                    mapped,
                    "patchpilot's organization-wide Default window does not exist yet; start the service once, then"
                            + " run again");
        if (!sample.enabled())
            return new Decision(
                    Step.LEAVE, mapped, "disabled in the sample (patches nothing); not migrated, create it by hand");
        return new Decision(Step.CREATE_AND_DISABLE, mapped, "new");
    }

    /** The fields in which two windows patch differently (schedule compared by their next openings). */
    static List<String> differences(MaintenanceWindow a, MaintenanceWindow b, Instant now) {
        List<String> out = new ArrayList<>();
        if (!WindowSchedule.nextOpenings(a, now, 6).equals(WindowSchedule.nextOpenings(b, now, 6)))
            out.add("schedule (" + WindowSchedule.describe(a) + " vs " + WindowSchedule.describe(b) + ")");
        compare(out, "PatchingWindowDuration", a, b, MaintenanceWindow::durationHours);
        compare(out, "CutoffHours", a, b, MaintenanceWindow::cutoffHours);
        compare(out, "PatchingOperation", a, b, MaintenanceWindow::operation);
        compare(out, "OperationPostPatching", a, b, MaintenanceWindow::postPatchOperation);
        compare(out, "IncludeASG", a, b, MaintenanceWindow::includeAsg);
        if ("Yes".equals(a.includeAsg()) && "Yes".equals(b.includeAsg())) {
            compare(out, "RetainHealthyPercentage", a, b, MaintenanceWindow::retainHealthyPercentage);
            compare(out, "RefreshASGInstances", a, b, MaintenanceWindow::refreshAsgInstances);
        }
        return out;
    }

    private static void compare(
            List<String> out,
            String field,
            MaintenanceWindow a,
            MaintenanceWindow b,
            Function<MaintenanceWindow, Object> get) {
        if (!Objects.equals(get.apply(a), get.apply(b)))
            out.add(field + " (" + get.apply(a) + " vs " + get.apply(b) + ")");
    }

    /** One line: what the sample's window does. */
    public static String describe(SampleWindow w) {
        return w.name() + " (" + w.id() + ", " + (w.enabled() ? "enabled" : "disabled") + "): " + w.schedule()
                + (w.startDate() == null ? "" : " from " + w.startDate())
                + (w.scheduleTimezone() == null ? "" : " " + w.scheduleTimezone()) + ", " + w.duration()
                + " h, cutoff " + w.cutoff() + " h, " + w.tasks().size() + " task(s)";
    }

    /** One line: the patchpilot window it becomes. */
    public static String describe(MaintenanceWindow w) {
        return w.name() + " of " + (w.organizationWide() ? "the organization" : w.account()) + ": "
                + WindowSchedule.describe(w) + ", " + w.operation() + ", " + w.postPatchOperation() + ", IncludeASG "
                + w.includeAsg()
                + ("Yes".equals(w.includeAsg())
                        ? " (RetainHealthyPercentage " + w.retainHealthyPercentage() + ", RefreshASGInstances "
                                + w.refreshAsgInstances() + ")"
                        : "");
    }
}
