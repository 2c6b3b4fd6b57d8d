package io.patchpilot.report;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the CSV that DuckDB and Athena write (RFC 4180: a header line, quoted fields may hold commas, quotes, newlines). */
public final class Csv {
    private Csv() {}

    public static List<Map<String, String>> rows(String csv) {
        return rows(new StringReader(csv));
    }

    /** From a stream (an S3 object), so the text is never held whole next to its rows. */
    public static List<Map<String, String>> rows(Reader csv) {
        List<List<String>> records = records(csv);
        List<Map<String, String>> out = new ArrayList<>();
        if (records.isEmpty()) return out;
        List<String> header = records.get(0);
        for (List<String> r : records.subList(1, records.size())) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.size(); i++) row.put(header.get(i), i < r.size() ? r.get(i) : "");
            out.add(row);
        }
        return out;
    }

    public static List<List<String>> records(String csv) {
        return records(new StringReader(csv));
    }

    static List<List<String>> records(Reader csv) {
        try {
            return parse(new PushbackReader(new BufferedReader(csv), 1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<List<String>> parse(PushbackReader in) throws IOException {
        List<List<String>> out = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        int ch;
        while ((ch = in.read()) != -1) {
            char c = (char) ch;
            any = true;
            if (quoted) {
                if (c == '"') {
                    int next = in.read();
                    if (next == '"') {
                        field.append('"');
                    } else {
                        quoted = false;
                        if (next != -1) in.unread(next);
                    }
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r') {
                    int next = in.read();
                    if (next != '\n' && next != -1) in.unread(next);
                }
                record.add(field.toString());
                field.setLength(0);
                out.add(record);
                record = new ArrayList<>();
                any = false;
            } else {
                field.append(c);
            }
        }
        if (any) {
            record.add(field.toString());
            out.add(record);
        }
        return out;
    }
}
