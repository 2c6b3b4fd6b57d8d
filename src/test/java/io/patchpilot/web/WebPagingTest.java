package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebPagingTest {
    @ParameterizedTest
    @CsvSource(
            nullValues = "null",
            value = {"null,20", "'',20", "1,1", "100,100", "' 7 ',7"})
    void a_limit_within_bounds_or_the_default(String raw, int expected) {
        assertEquals(expected, Paging.limit(raw, 20, 100));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "0|limit: 0 is not between 1 and 100",
                "101|limit: 101 is not between 1 and 100",
                "-3|limit: -3 is not between 1 and 100",
                "ten|limit: 'ten' is not a number"
            })
    void a_bad_limit_is_a_bad_request_naming_the_parameter(String raw, String message) {
        assertEquals(
                message,
                assertThrows(Paging.BadRequest.class, () -> Paging.limit(raw, 20, 100))
                        .getMessage());
    }

    @Test
    void a_cursor_round_trips_a_sort_key() {
        String sk = "2026-11-27T05:00:00Z#Default-20261127T0500Z";
        assertEquals(Optional.of(sk), Paging.sortKey(Paging.cursor(sk)));
        assertEquals(Optional.empty(), Paging.sortKey(null));
        assertEquals(Optional.empty(), Paging.sortKey(""));
    }

    @ParameterizedTest
    @CsvSource({"'***'", "'%%'"})
    void a_cursor_not_from_the_api_is_a_bad_request(String cursor) {
        assertThrows(Paging.BadRequest.class, () -> Paging.sortKey(cursor));
    }

    @ParameterizedTest
    @CsvSource(
            nullValues = "null",
            value = {
                // size, cursor offset, limit, from, to, next offset
                "0,null,10,0,0,null",
                "5,null,10,0,5,null",
                "25,null,10,0,10,10",
                "25,10,10,10,20,20",
                "25,20,10,20,25,null",
                "25,25,10,25,25,null"
            })
    void slices_walk_a_list_to_its_end(int size, String offset, int limit, int from, int to, String next) {
        Paging.Slice s = Paging.slice(size, offset == null ? null : Paging.cursor(offset), limit);
        assertEquals(from, s.from());
        assertEquals(to, s.to());
        assertEquals(next == null ? null : Paging.cursor(next), s.next());
    }

    @Test
    void a_slice_cursor_past_the_end_is_a_bad_request() {
        assertThrows(Paging.BadRequest.class, () -> Paging.slice(5, Paging.cursor("6"), 10));
        assertThrows(Paging.BadRequest.class, () -> Paging.slice(5, Paging.cursor("x"), 10));
    }
}
