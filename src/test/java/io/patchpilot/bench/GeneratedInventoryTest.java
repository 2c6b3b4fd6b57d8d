package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.report.ReportTables;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GeneratedInventoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Set<String> fields(String line) throws Exception {
        Set<String> out = new HashSet<>();
        JSON.readTree(line).fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void rows_carry_the_columns_the_report_tables_read() throws Exception {
        Set<String> item = fields(GeneratedInventory.complianceItem("900000000001", "us-east-1", 7, 3));
        Set<String> expected = new HashSet<>(ReportTables.all("inventory")
                .get("aws_complianceitem")
                .columns()
                .keySet());
        expected.removeAll(Set.of("documentname", "documentversion")); // association items only; patch items have none
        assertEquals(expected, item);
        assertEquals(
                ReportTables.all("inventory")
                        .get("aws_instanceinformation")
                        .columns()
                        .keySet(),
                fields(GeneratedInventory.instanceInformation("900000000001", "us-east-1", 7)));
    }

    @Test
    void an_item_joins_its_instance_and_each_instance_has_its_own_id() throws Exception {
        JsonNode item = JSON.readTree(GeneratedInventory.complianceItem("900000000001", "eu-west-1", 42, 0));
        JsonNode info = JSON.readTree(GeneratedInventory.instanceInformation("900000000001", "eu-west-1", 42));
        assertEquals(info.path("resourceid").asText(), item.path("resourceid").asText());
        assertEquals("Patch", item.path("compliancetype").asText());
        assertNotEquals(
                GeneratedInventory.instanceId("900000000001", "eu-west-1", 1),
                GeneratedInventory.instanceId("900000000001", "eu-west-1", 2));
        assertNotEquals(
                GeneratedInventory.instanceId("900000000001", "eu-west-1", 1),
                GeneratedInventory.instanceId("900000000002", "eu-west-1", 1));
        assertTrue(GeneratedInventory.instanceId("900000000001", "eu-west-1", 1).matches("i-[0-9a-f]{13}"));
    }

    @Test
    void keys_follow_the_resource_data_sync_layout() {
        assertEquals(
                "inventory/AWS:ComplianceItem/accountid=900000000001/region=us-east-1/resourcetype=ManagedInstanceInventory/bench-0.json",
                GeneratedInventory.key("inventory", "AWS:ComplianceItem", "900000000001", "us-east-1", "bench-0"));
    }
}
