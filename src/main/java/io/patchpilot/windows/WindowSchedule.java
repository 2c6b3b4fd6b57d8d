package io.patchpilot.windows;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * When a window opens. EventBridge rules speak UTC cron only, so a window's rule fires at every
 * candidate time (weekly on its weekday, daily for Patch-Tuesday offsets, hourly for other time
 * zones) and {@link #isDue} keeps the real occurrences: every N weeks from the anchor date, the
 * N-th day after the second Tuesday, the local start hour across daylight-saving changes.
 */
public final class WindowSchedule {
    private static final Duration TOLERANCE = Duration.ofMinutes(30);

    private WindowSchedule() {}

    /** The schedule expression of the window's EventBridge rule. */
    public static String ruleExpression(MaintenanceWindow w) {
        if (w.cron() != null) return w.cron();
        if (!zone(w).equals(ZoneOffset.UTC) && !zone(w).getId().equals("UTC")) return "cron(0 * * * ? *)";
        if (w.patchTuesdayOffsetDays() != null) return "cron(0 " + w.startHour() + " * * ? *)";
        return "cron(0 " + w.startHour() + " ? * " + w.weekday().name().substring(0, 3) + " *)";
    }

    /** The first occurrence (window opening) at or after {@code from}. */
    public static Optional<Instant> nextOpening(MaintenanceWindow w, Instant from) {
        if (w.cron() != null) {
            return AwsCron.parse(w.cron())
                    .next(from.minusSeconds(60).atZone(ZoneOffset.UTC))
                    .map(ZonedDateTime::toInstant);
        }
        ZoneId zone = zone(w);
        if (w.patchTuesdayOffsetDays() != null) {
            YearMonth month = YearMonth.from(from.atZone(zone)).minusMonths(1);
            for (int i = 0; i < 15; i++, month = month.plusMonths(1)) {
                LocalDate day = month.atDay(1)
                        .with(TemporalAdjusters.dayOfWeekInMonth(2, DayOfWeek.TUESDAY))
                        .plusDays(w.patchTuesdayOffsetDays());
                Instant at = day.atTime(w.startHour(), 0).atZone(zone).toInstant();
                if (!at.isBefore(from)) return Optional.of(at);
            }
            return Optional.empty();
        }
        LocalDate anchor = w.anchorDate() != null
                ? w.anchorDate()
                : from.atZone(zone).toLocalDate().with(TemporalAdjusters.nextOrSame(w.weekday()));
        LocalDate fromDay = from.atZone(zone).toLocalDate();
        long periods = Math.max(0, ChronoUnit.DAYS.between(anchor, fromDay) / w.frequencyDays() - 1);
        for (LocalDate day = anchor.plusDays(periods * w.frequencyDays()); ; day = day.plusDays(w.frequencyDays())) {
            Instant at = day.atTime(w.startHour(), 0).atZone(zone).toInstant();
            if (!at.isBefore(from)) return Optional.of(at);
        }
    }

    /** The next {@code count} openings from {@code from}. */
    public static List<Instant> nextOpenings(MaintenanceWindow w, Instant from, int count) {
        List<Instant> out = new ArrayList<>();
        Instant t = from;
        while (out.size() < count) {
            Optional<Instant> next = nextOpening(w, t);
            if (next.isEmpty()) break;
            out.add(next.get());
            t = next.get().plusSeconds(60);
        }
        return out;
    }

    /**
     * The occurrence a fire at {@code fireTime} stands for, if it is one (within 30 minutes, for
     * late deliveries): a candidate fire that is not an occurrence is not a run.
     */
    public static Optional<Instant> occurrenceAt(MaintenanceWindow w, Instant fireTime) {
        return nextOpening(w, fireTime.minus(TOLERANCE)).filter(o -> !o.isAfter(fireTime.plus(TOLERANCE)));
    }

    /** No command may start at or after this: the window's end minus its cutoff. */
    public static Instant lastStart(MaintenanceWindow w, Instant opening) {
        return opening.plus(Duration.ofHours(w.durationHours() - w.cutoffHours()));
    }

    public static Instant end(MaintenanceWindow w, Instant opening) {
        return opening.plus(Duration.ofHours(w.durationHours()));
    }

    /** The anchor of a new window: the next chosen weekday, as the seed did. */
    public static LocalDate anchorFor(MaintenanceWindow w, Instant now) {
        ZonedDateTime local = now.atZone(zone(w));
        LocalDate day = local.toLocalDate().with(TemporalAdjusters.nextOrSame(w.weekday()));
        if (day.equals(local.toLocalDate()) && local.getHour() >= w.startHour()) day = day.plusWeeks(1);
        return day;
    }

    static ZoneId zone(MaintenanceWindow w) {
        return w.timeZone() == null ? ZoneOffset.UTC : ZoneId.of(w.timeZone());
    }

    public static String describe(MaintenanceWindow w) {
        if (w.cron() != null) return w.cron() + " (UTC)";
        String at = String.format(
                Locale.ROOT,
                "%02d:00 %s for %d h (cutoff %d h)",
                w.startHour(),
                w.timeZone() == null ? "UTC" : w.timeZone(),
                w.durationHours(),
                w.cutoffHours());
        if (w.patchTuesdayOffsetDays() != null) return "Patch Tuesday + " + w.patchTuesdayOffsetDays() + " days, " + at;
        return (w.frequencyDays() == 7 ? "every " : "every " + w.frequencyDays() / 7 + " weeks on ") + w.weekday() + " "
                + at;
    }
}
