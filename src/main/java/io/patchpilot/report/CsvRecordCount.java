package io.patchpilot.report;

import java.io.IOException;
import java.io.InputStream;

/**
 * Counts the records of a CSV as it streams by, without keeping any of it: a report may have a
 * million rows, and a quoted field may hold line breaks, so lines are not records.
 */
public final class CsvRecordCount {
    private CsvRecordCount() {}

    /** Records in the text, the header included; a last record without a line break counts too. */
    public static long of(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long records = 0;
        boolean quoted = false;
        boolean pending = false; // characters seen since the last record ended
        boolean afterCr = false;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int i = 0; i < n; i++) {
                byte c = buf[i];
                boolean lfAfterCr = afterCr && c == '\n';
                afterCr = false;
                // a doubled quote inside a quoted field toggles twice: no need to look ahead
                if (c == '"') {
                    quoted = !quoted;
                    pending = true;
                } else if (!quoted && (c == '\n' || c == '\r')) {
                    if (lfAfterCr) continue; // CRLF ends one record
                    records++;
                    pending = false;
                    afterCr = c == '\r';
                } else {
                    pending = true;
                }
            }
        }
        return pending ? records + 1 : records;
    }
}
