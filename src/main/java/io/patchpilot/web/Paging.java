package io.patchpilot.web;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Pagination of the API: a {@code limit} (default and maximum per endpoint) and an opaque
 * {@code cursor} (the sort key of the last item returned, base64url) to continue after it.
 */
public final class Paging {
    private Paging() {}

    /** Thrown for a bad parameter; the API answers 400 with the message. */
    public static final class BadRequest extends RuntimeException {
        public BadRequest(String message) {
            super(message);
        }
    }

    public static int limit(String raw, int defaultLimit, int max) {
        return number("limit", raw, defaultLimit, 1, max);
    }

    /** A whole-number parameter between {@code min} and {@code max}, its default when absent. */
    public static int number(String name, String raw, int defaultValue, int min, int max) {
        if (raw == null || raw.isBlank()) return defaultValue;
        try {
            int n = Integer.parseInt(raw.trim());
            if (n < min || n > max) throw new BadRequest(name + ": " + raw + " is not between " + min + " and " + max);
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequest(name + ": '" + raw + "' is not a number");
        }
    }

    public static String cursor(String sortKey) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sortKey.getBytes(StandardCharsets.UTF_8));
    }

    public static Optional<String> sortKey(String cursor) {
        if (cursor == null || cursor.isBlank()) return Optional.empty();
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor.trim()), StandardCharsets.UTF_8);
            if (s.isEmpty() || s.chars().anyMatch(c -> c < 0x20)) throw new IllegalArgumentException();
            return Optional.of(s);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("cursor: '" + cursor + "' is not a cursor this API returned");
        }
    }

    /** One page of a list held in memory (instances of a run): items after offset {@code cursor}. */
    public record Slice(int from, int to, String next) {}

    public static Slice slice(int size, String cursor, int limit) {
        int from = 0;
        if (cursor != null && !cursor.isBlank()) {
            String s = sortKey(cursor).orElseThrow();
            try {
                from = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new BadRequest("cursor: '" + cursor + "' is not a cursor this API returned");
            }
            if (from < 0 || from > size) throw new BadRequest("cursor: '" + cursor + "' is past the end");
        }
        int to = Math.min(size, from + limit);
        return new Slice(from, to, to < size ? cursor(Integer.toString(to)) : null);
    }
}
