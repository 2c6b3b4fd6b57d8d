package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class ComplianceHistoryTest {
    private static Compliance.Instance inst(String account, String region, String env, String status) {
        return new Compliance.Instance(account, region, "i-" + Math.random(), "Linux", status, env);
    }

    private static final List<Compliance.Instance> FLEET = List.of(
            inst("111", "us-east-1", "Dev", Compliance.COMPLIANT),
            inst("111", "us-east-1", "Dev", Compliance.NON_COMPLIANT),
            inst("111", "us-east-1", "Prod", Compliance.COMPLIANT),
            inst("111", "eu-west-1", "Prod", Compliance.COMPLIANT),
            inst("222", "us-east-1", "Prod", Compliance.NON_COMPLIANT));

    @Test
    void a_report_run_is_kept_per_account_region_and_environment() {
        assertEquals(
                List.of(
                        new ComplianceHistory.Group("111", "eu-west-1", "Prod", 1, 0),
                        new ComplianceHistory.Group("111", "us-east-1", "Dev", 1, 1),
                        new ComplianceHistory.Group("111", "us-east-1", "Prod", 1, 0),
                        new ComplianceHistory.Group("222", "us-east-1", "Prod", 0, 1)),
                ComplianceHistory.groups(FLEET));
    }

    @Test
    void a_point_is_the_percentage_compliant_under_the_dashboards_filters() {
        List<ComplianceHistory.Group> groups = ComplianceHistory.groups(FLEET);
        ComplianceHistory.Point all =
                ComplianceHistory.point("report-1", "2026-12-07T18:00:00Z", groups, new Compliance.Filter("", "", ""));
        assertEquals(new ComplianceHistory.Point("report-1", "2026-12-07T18:00:00Z", 5, 3, 2, 60.0), all);
        assertEquals(
                66.7,
                ComplianceHistory.point("r", "t", groups, new Compliance.Filter("111", "us-east-1", null))
                        .percentCompliant());
        ComplianceHistory.Point prod =
                ComplianceHistory.point("r", "t", groups, new Compliance.Filter(null, null, "Prod"));
        assertEquals(List.of(3L, 2L, 1L), List.of(prod.instances(), prod.compliant(), prod.nonCompliant()));
        assertEquals(66.7, prod.percentCompliant());
        // a filter nothing matches has no percentage, not 0 % or 100 %
        ComplianceHistory.Point none = ComplianceHistory.point("r", "t", groups, new Compliance.Filter("999", "", ""));
        assertEquals(0, none.instances());
        assertNull(none.percentCompliant());
    }

    @Test
    void a_large_fleets_summary_is_split_into_items_under_dynamodbs_size_limit() {
        List<ComplianceHistory.Group> groups = new ArrayList<>();
        for (int i = 0; i < ComplianceHistory.GROUPS_PER_ITEM * 2 + 1; i++)
            groups.add(
                    new ComplianceHistory.Group(String.format("%012d", i), "ap-southeast-2", "Production", 1000, 1000));
        List<Map<String, AttributeValue>> items = ComplianceHistory.items("report-1", "2026-12-07T18:00:00Z", groups);
        assertEquals(3, items.size());
        assertEquals(
                "2026-12-07T18:00:00Z#report-1#0002", items.get(2).get("sk").s());
        for (Map<String, AttributeValue> item : items)
            assertEquals(
                    true,
                    item.get("groups").s().length() < 200_000,
                    "item of " + item.get("groups").s().length());
        // no instance at all is still a point (0 instances), so the run shows in the trend's count
        assertEquals(1, ComplianceHistory.items("report-2", "t", List.of()).size());
    }

    @Test
    void days_outside_the_range_are_refused_naming_the_parameter() {
        Paging.BadRequest e = assertThrows(Paging.BadRequest.class, () -> Paging.number("days", "0", 90, 1, 3660));
        assertEquals("days: 0 is not between 1 and 3660", e.getMessage());
        assertEquals(
                "days: 'x' is not a number",
                assertThrows(Paging.BadRequest.class, () -> Paging.number("days", "x", 90, 1, 3660))
                        .getMessage());
        assertEquals(90, Paging.number("days", null, 90, 1, 3660));
    }
}
