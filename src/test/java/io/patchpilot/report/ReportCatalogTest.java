package io.patchpilot.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchpilot.errors.PermanentFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportCatalogTest {
    private final ReportCatalog catalog =
            new ReportCatalog(Path.of("reports"), Map.of("stale_days", 7, "run_days", 30));

    @Test
    void views_are_inlined_so_the_same_sql_runs_on_athena_and_duckdb() {
        String sql = catalog.query("r", "compliance_by_account_region").sql();
        assertTrue(sql.startsWith("WITH patch_table AS (SELECT cs.resourceid"), sql);
        assertTrue(!sql.contains("CREATE"), sql);
        assertTrue(!catalog.query("r", "instance_list").sql().startsWith("WITH"), "no view used, none inlined");
    }

    @Test
    void parameters_are_filled_with_their_configured_numbers() {
        assertTrue(catalog.query("r", "missing_critical_security").sql().contains(">= 7"));
        assertTrue(catalog.query("r", "patch_run_outcomes").sql().contains("<= 30"));
    }

    @Test
    void an_unknown_report_is_refused_naming_it_and_the_known_ones() {
        PermanentFailure e =
                assertThrows(PermanentFailure.class, () -> catalog.select(List.of("instance_list", "everything")));
        assertTrue(
                e.getMessage()
                        .startsWith("queries: 'everything' is not one of compliance_by_account_region, instance_list"),
                e.getMessage());
        assertEquals(catalog.names(), catalog.select(List.of()));
    }

    /** Athena reads the Glue tables of hub.yaml, DuckDB the columns of ReportTables: they must agree. */
    @Test
    void the_glue_tables_and_the_local_tables_have_the_same_columns() throws Exception {
        JsonNode resources = new ObjectMapper(new YAMLFactory())
                .readTree(Files.readString(Path.of("deploy/cloudformation/hub.yaml"))
                        .replaceAll(
                                "!(Sub|Ref|GetAtt|Join|Select|Split|If|Equals|Not|Base64|FindInMap|ImportValue|GetAZs|Condition|And|Or)\\b",
                                ""))
                .path("Resources");
        for (Map.Entry<String, ReportTables.Table> t :
                ReportTables.all("inventory").entrySet()) {
            JsonNode table = null;
            for (JsonNode r : resources)
                if (t.getKey()
                        .equals(r.path("Properties")
                                .path("TableInput")
                                .path("Name")
                                .asText())) table = r;
            assertTrue(table != null, "hub.yaml has a Glue table " + t.getKey());
            List<String> glue = new ArrayList<>();
            table.path("Properties")
                    .path("TableInput")
                    .path("PartitionKeys")
                    .forEach(c -> glue.add(c.path("Name").asText()));
            table.path("Properties")
                    .path("TableInput")
                    .path("StorageDescriptor")
                    .path("Columns")
                    .forEach(c -> glue.add(c.path("Name").asText()));
            assertEquals(
                    t.getValue().columns().keySet().stream().sorted().toList(),
                    glue.stream().sorted().toList(),
                    t.getKey());
        }
    }
}
