package io.patchpilot.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WebComplianceTest {
    private static Map<String, String> inst(String account, String region, String id, String platform) {
        return Map.of("accountid", account, "region", region, "resourceid", id, "platformtype", platform);
    }

    private static Map<String, String> item(String account, String region, String id, String status) {
        return Map.of("accountid", account, "region", region, "resourceid", id, "status", status);
    }

    private static final List<Compliance.Instance> FLEET = Compliance.join(
            List.of(
                    inst("111", "us-east-1", "i-1", "Linux"),
                    inst("111", "us-east-1", "i-2", "Windows"),
                    inst("111", "eu-west-1", "i-3", "Linux"),
                    inst("222", "us-east-1", "i-4", "Linux"),
                    inst("222", "us-east-1", "i-5", "")),
            List.of(
                    item("111", "us-east-1", "i-1", "COMPLIANT"),
                    item("111", "us-east-1", "i-1", "NON_COMPLIANT"),
                    item("111", "us-east-1", "i-2", "COMPLIANT"),
                    item("222", "us-east-1", "i-4", "NON_COMPLIANT"),
                    item("999", "us-east-1", "i-9", "NON_COMPLIANT")),
            List.of(
                    Map.of("instanceid", "i-1", "environment", "Dev"),
                            Map.of("instanceid", "i-2", "environment", "Prod"),
                    Map.of("instanceid", "i-4", "environment", "Prod"),
                            Map.of("instanceid", "i-5", "environment", "")));

    static Stream<Arguments> cases() {
        return Stream.of(
                // filter, instances, byStatus, byPlatform
                Arguments.of(
                        new Compliance.Filter(null, null, null),
                        5,
                        Map.of("COMPLIANT", 3L, "NON_COMPLIANT", 2L),
                        Map.of("Linux", 3L, "Windows", 1L, "Unknown", 1L)),
                Arguments.of(
                        new Compliance.Filter("111", "", ""),
                        3,
                        Map.of("COMPLIANT", 2L, "NON_COMPLIANT", 1L),
                        Map.of("Linux", 2L, "Windows", 1L)),
                Arguments.of(
                        new Compliance.Filter(null, "eu-west-1", null),
                        1,
                        Map.of("COMPLIANT", 1L),
                        Map.of("Linux", 1L)),
                Arguments.of(
                        new Compliance.Filter(null, null, "Prod"),
                        2,
                        Map.of("COMPLIANT", 1L, "NON_COMPLIANT", 1L),
                        Map.of("Linux", 1L, "Windows", 1L)),
                Arguments.of(
                        new Compliance.Filter(null, null, Compliance.NO_ENVIRONMENT),
                        2,
                        Map.of("COMPLIANT", 2L),
                        Map.of("Linux", 1L, "Unknown", 1L)),
                Arguments.of(new Compliance.Filter("333", null, null), 0, Map.of(), Map.of()));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void a_filter_counts_only_the_instances_it_matches(
            Compliance.Filter filter, int instances, Map<String, Long> byStatus, Map<String, Long> byPlatform) {
        Compliance.Summary s = Compliance.summarize(FLEET, filter);
        assertEquals(instances, s.instances());
        assertEquals(byStatus, s.byStatus());
        assertEquals(byPlatform, s.byPlatform());
        // the filter choices stay the whole fleet's
        assertEquals(List.of("111", "222"), s.accounts());
        assertEquals(List.of("(none)", "Dev", "Prod"), s.environments());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void the_groups_add_up_to_the_total(
            Compliance.Filter filter, int instances, Map<String, Long> byStatus, Map<String, Long> byPlatform) {
        Compliance.Summary s = Compliance.summarize(FLEET, filter);
        for (Map<String, Compliance.Counts> groups : List.of(s.byAccount(), s.byRegion(), s.byEnvironment())) {
            assertEquals(
                    instances,
                    groups.values().stream().mapToLong(Compliance.Counts::total).sum());
            assertEquals(
                    byStatus.getOrDefault("NON_COMPLIANT", 0L),
                    groups.values().stream()
                            .mapToLong(Compliance.Counts::nonCompliant)
                            .sum());
        }
    }

    @Test
    void an_instance_is_non_compliant_when_any_patch_item_is_and_compliant_without_items() {
        Map<String, String> status = new HashMap<>();
        FLEET.forEach(i -> status.put(i.instanceId(), i.status()));
        assertEquals(
                Map.of(
                        "i-1",
                        "NON_COMPLIANT",
                        "i-2",
                        "COMPLIANT",
                        "i-3",
                        "COMPLIANT",
                        "i-4",
                        "NON_COMPLIANT",
                        "i-5",
                        "COMPLIANT"),
                status);
        assertEquals(
                Map.of("111", new Compliance.Counts(2, 1), "222", new Compliance.Counts(1, 1)),
                Compliance.summarize(FLEET, new Compliance.Filter(null, null, null))
                        .byAccount());
    }
}
