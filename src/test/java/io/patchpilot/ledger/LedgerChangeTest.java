package io.patchpilot.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class LedgerChangeTest {
    @Test
    void a_change_is_one_update_expression_with_its_own_placeholders() {
        Map<String, Long> add = new LinkedHashMap<>();
        add.put("targetsDone", -1L);
        add.put("reopens", 1L);
        Ledger.Change c = new Ledger.Change(Map.of("status", Ledger.s("Running")), List.of("finishedAt"), add);
        Map<String, String> names = new HashMap<>(Map.of("#st", "state"));
        Map<String, AttributeValue> vals = new HashMap<>();
        assertEquals("SET #n0 = :v0 REMOVE #r0 ADD #a0 :a0, #a1 :a1", c.expression(names, vals));
        assertEquals(
                Map.of("#st", "state", "#n0", "status", "#r0", "finishedAt", "#a0", "targetsDone", "#a1", "reopens"),
                names);
        assertEquals(
                Map.of(":v0", Ledger.s("Running"), ":a0", AttributeValue.fromN("-1"), ":a1", AttributeValue.fromN("1")),
                vals);
    }

    @Test
    void parts_left_empty_are_left_out() {
        Map<String, String> names = new HashMap<>();
        Map<String, AttributeValue> vals = new HashMap<>();
        assertEquals(
                "REMOVE #r0, #r1", new Ledger.Change(Map.of(), List.of("a", "b"), Map.of()).expression(names, vals));
        assertEquals(Map.of(), vals);
    }
}
