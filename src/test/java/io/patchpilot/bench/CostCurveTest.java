package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class CostCurveTest {
    private static final List<CostCurve.Point> POINTS = List.of(
            new CostCurve.Point(50, 40, 1_500, 150, 2.0),
            new CostCurve.Point(100, 72, 3_000, 180, 2.1),
            new CostCurve.Point(200, 160, 6_100, 240, 2.3));

    @Test
    void the_table_divides_each_figure_by_its_size_against_the_smallest() {
        String table = CostCurve.table("accounts", POINTS);
        assertTrue(table.contains("| 100 | 72.0 | 3,000 | 180 | 0.90 | 1.00 | 2.1 |"), table);
        assertTrue(table.contains("| 200 | 160.0 | 6,100 | 240 | 1.00 | 1.02 | 2.3 |"), table);
    }

    @Test
    void the_svg_is_well_formed_with_a_line_a_point_per_size_and_the_linear_reference_in_each_chart() throws Exception {
        String svg = CostCurve.svg("patching <dispatch>", "accounts", POINTS);
        Document d = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals(3, d.getElementsByTagName("polyline").getLength());
        assertEquals(9, d.getElementsByTagName("circle").getLength());
        assertEquals(3, svg.split("stroke-dasharray").length - 1);
        assertTrue(svg.contains("patching &lt;dispatch&gt;"));
    }

    @Test
    void tagging_point_takes_time_from_the_rate_and_calls_and_heap_from_the_extras() {
        BenchResult r = new BenchResult(
                "Config events -> tags applied",
                "events/s",
                500,
                "raw",
                1000,
                Map.of("events", 10_000, "awsCalls", 203L, "peakHeapMiB", 193.0));
        CostCurve.Point p = CostCurve.tagging(10_000, List.of(r), 1.5);
        assertEquals(20.0, p.seconds(), 1e-9);
        assertEquals(203.0, p.calls());
        assertEquals(193.0, p.peakHeapMiB());
    }
}
