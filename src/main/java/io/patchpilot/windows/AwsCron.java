package io.patchpilot.windows;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An EventBridge {@code cron(min hour day-of-month month day-of-week year)} expression (UTC), as
 * AWS reads it: one of day-of-month and day-of-week must be {@code ?}; lists, ranges, steps,
 * month and day names, {@code L} (last day of month; {@code 5L} last Thursday) and {@code #}
 * ({@code 3#2} second Tuesday). {@code W} is refused with a clear message.
 */
public final class AwsCron {
    private static final List<String> MONTHS =
            List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
    private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

    private final String expression;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet months;
    private final BitSet years;
    private final DayRule days;

    private interface DayRule {
        boolean matches(LocalDate date);
    }

    private AwsCron(String expression, BitSet minutes, BitSet hours, BitSet months, BitSet years, DayRule days) {
        this.expression = expression;
        this.minutes = minutes;
        this.hours = hours;
        this.months = months;
        this.years = years;
        this.days = days;
    }

    /** Parses {@code cron(...)}; the message of the exception says what is wrong. */
    public static AwsCron parse(String text) {
        String t = text == null ? "" : text.trim();
        if (!t.startsWith("cron(") || !t.endsWith(")"))
            throw new IllegalArgumentException("must look like cron(0 5 ? * FRI *)");
        String[] f = t.substring(5, t.length() - 1).trim().split("\\s+");
        if (f.length != 6)
            throw new IllegalArgumentException(
                    "needs 6 fields (minutes hours day-of-month month day-of-week year), has " + f.length);
        boolean domAny = f[2].equals("?");
        boolean dowAny = f[4].equals("?");
        if (domAny == dowAny)
            throw new IllegalArgumentException("exactly one of day-of-month and day-of-week must be '?'");
        BitSet minutes = field(f[0], 0, 59, null, "minutes");
        BitSet hours = field(f[1], 0, 23, null, "hours");
        BitSet months = field(f[3], 1, 12, MONTHS, "month");
        BitSet years = field(f[5], 1970, 2199, null, "year");
        DayRule days = domAny ? dayOfWeek(f[4]) : dayOfMonth(f[2]);
        return new AwsCron(t, minutes, hours, months, years, days);
    }

    public String expression() {
        return expression;
    }

    /** The first time strictly after {@code after} that the expression matches (UTC), within 5 years. */
    public Optional<ZonedDateTime> next(ZonedDateTime after) {
        ZonedDateTime from = after.withZoneSameInstant(ZoneOffset.UTC)
                .truncatedTo(ChronoUnit.MINUTES)
                .plusMinutes(1);
        LocalDate day = from.toLocalDate();
        for (int i = 0; i < 366 * 5; i++, day = day.plusDays(1)) {
            if (!years.get(day.getYear()) || !months.get(day.getMonthValue()) || !days.matches(day)) continue;
            for (int h = hours.nextSetBit(0); h >= 0; h = hours.nextSetBit(h + 1)) {
                for (int m = minutes.nextSetBit(0); m >= 0; m = minutes.nextSetBit(m + 1)) {
                    ZonedDateTime candidate = LocalDateTime.of(day.getYear(), day.getMonth(), day.getDayOfMonth(), h, m)
                            .atZone(ZoneOffset.UTC);
                    if (!candidate.isBefore(from)) return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    private static DayRule dayOfMonth(String f) {
        if (f.contains("W"))
            throw new IllegalArgumentException(
                    "day-of-month: 'W' (nearest weekday) is not supported; use a day-of-week");
        if (f.equals("L")) return d -> d.getDayOfMonth() == d.lengthOfMonth();
        BitSet set = field(f, 1, 31, null, "day-of-month");
        return d -> set.get(d.getDayOfMonth());
    }

    private static DayRule dayOfWeek(String f) {
        String u = f.toUpperCase(Locale.ROOT);
        if (u.contains("#")) {
            String[] p = u.split("#");
            int dow = value(p[0], 1, 7, DAYS, "day-of-week");
            int nth = value(p[1], 1, 5, null, "day-of-week '#'");
            DayOfWeek day = javaDay(dow);
            return d -> d.equals(d.with(TemporalAdjusters.dayOfWeekInMonth(nth, day)));
        }
        if (u.endsWith("L") && u.length() > 1) {
            DayOfWeek day = javaDay(value(u.substring(0, u.length() - 1), 1, 7, DAYS, "day-of-week"));
            return d -> d.equals(YearMonth.from(d).atEndOfMonth().with(TemporalAdjusters.previousOrSame(day)));
        }
        if (u.equals("L")) return d -> d.getDayOfWeek() == DayOfWeek.SATURDAY;
        BitSet set = field(u, 1, 7, DAYS, "day-of-week");
        return d -> set.get(d.getDayOfWeek().getValue() % 7 + 1);
    }

    /** AWS numbers days 1 (SUN) to 7 (SAT). */
    private static DayOfWeek javaDay(int aws) {
        return aws == 1 ? DayOfWeek.SUNDAY : DayOfWeek.of(aws - 1);
    }

    private static BitSet field(String f, int min, int max, List<String> names, String what) {
        BitSet set = new BitSet(max + 1);
        for (String part : f.toUpperCase(Locale.ROOT).split(",")) {
            int step = 1;
            String range = part;
            if (part.contains("/")) {
                String[] p = part.split("/", 2);
                range = p[0];
                step = value(p[1], 1, max, null, what + " step");
            }
            int from;
            int to;
            if (range.equals("*") || range.equals("?")) {
                from = min;
                to = max;
            } else if (range.contains("-")) {
                String[] p = range.split("-", 2);
                from = value(p[0], min, max, names, what);
                to = value(p[1], min, max, names, what);
                if (to < from) throw new IllegalArgumentException(what + ": range " + range + " runs backwards");
            } else {
                from = value(range, min, max, names, what);
                to = part.contains("/") ? max : from;
            }
            for (int v = from; v <= to; v += step) set.set(v);
        }
        return set;
    }

    private static int value(String s, int min, int max, List<String> names, String what) {
        int v;
        if (names != null && names.contains(s)) {
            v = names.indexOf(s) + 1;
        } else {
            try {
                v = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        what + ": '" + s + "' is not a number" + (names == null ? "" : " or name"));
            }
        }
        if (v < min || v > max) throw new IllegalArgumentException(what + ": " + v + " is outside " + min + "-" + max);
        return v;
    }

    @Override
    public String toString() {
        return expression;
    }
}
