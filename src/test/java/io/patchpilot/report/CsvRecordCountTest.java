package io.patchpilot.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CsvRecordCountTest {
    @ParameterizedTest(name = "[{index}] {2}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                                         | 0 | empty text has no records
            'a,b\\n'                                   | 1 | a header alone
            'a,b\\n1,2\\n3,4\\n'                       | 3 | header and two rows
            'a,b\\n1,2\\n3,4'                          | 3 | no line break after the last record
            'a,b\\r\\n1,2\\r\\n'                       | 2 | CRLF ends one record, not two
            'a,b\\n1,"x\\ny"\\n'                       | 2 | a quoted line break stays inside its field
            'a,b\\n1,"x\\r\\ny\\n\\nz"\\n2,3\\n'       | 3 | several quoted line breaks in one field
            'a,b\\n1,"say ""hi""\\nthere"\\n2,3\\n'    | 3 | doubled quotes inside a quoted field
            'a,b\\n1,""\\n'                            | 2 | an empty quoted field
            """)
    void counts_records_not_lines(String escaped, long expected, String why) throws IOException {
        assertEquals(
                expected, CsvRecordCount.of(utf8(escaped.replace("\\n", "\n").replace("\\r", "\r"))), why);
    }

    private static InputStream utf8(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void agrees_with_the_csv_reader_on_a_report_like_file() throws IOException {
        StringBuilder csv = new StringBuilder("accountid,title\n");
        for (int i = 0; i < 10_000; i++)
            csv.append(i).append(i % 7 == 0 ? ",\"Mise à jour, \"\"KB\"\"\n(x64) — ü\"\n" : ",plain\n");
        assertEquals(Csv.records(csv.toString()).size(), CsvRecordCount.of(utf8(csv.toString())));
    }

    @Test
    void streams_more_than_one_buffer_without_holding_it() throws IOException {
        long rows = 200_000;
        byte[] record = "\"a\nb\",c\n".getBytes(StandardCharsets.UTF_8);
        InputStream generated = new InputStream() {
            private long left = rows * record.length;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) == -1 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) return -1;
                int n = 0;
                while (left > 0 && n < len) {
                    long at = rows * record.length - left;
                    b[off + n++] = record[(int) (at % record.length)];
                    left--;
                }
                return n;
            }
        };
        assertEquals(rows, CsvRecordCount.of(generated));
    }
}
