package io.patchpilot.bench;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.local.FleetFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;

/**
 * A generated organization for load runs (the tagging benchmark and the two-replica test):
 * {@code accounts} member accounts × {@link #REGIONS}, each account-region with
 * {@code perAccountRegion} instances, half untagged and half tagged {@code environment=Dev};
 * and one Config {@code NON_COMPLIANT} event per instance.
 */
public final class GeneratedFleet {
    public static final List<String> REGIONS = List.of("us-east-1", "eu-west-1");

    private GeneratedFleet() {}

    /** Account ids 500000000001, 500000000002, …; names bench-1, bench-2, …. */
    public static FleetFile fleet(int accounts, int perAccountRegion) {
        List<FleetFile.Account> list = new ArrayList<>();
        for (int a = 0; a < accounts; a++) {
            Map<String, FleetFile.RegionFleet> regions = new LinkedHashMap<>();
            for (String region : REGIONS) {
                int untagged = perAccountRegion / 2;
                regions.put(
                        region,
                        new FleetFile.RegionFleet(
                                List.of(
                                        new FleetFile.Instance(
                                                "untagged",
                                                null,
                                                null,
                                                null,
                                                null,
                                                null,
                                                null,
                                                untagged,
                                                Map.of(),
                                                List.of()),
                                        new FleetFile.Instance(
                                                "dev",
                                                null,
                                                null,
                                                null,
                                                null,
                                                null,
                                                null,
                                                perAccountRegion - untagged,
                                                Map.of("environment", "Dev"),
                                                List.of())),
                                List.of(),
                                List.of()));
            }
            list.add(new FleetFile.Account(
                    String.format("5%011d", a + 1), "bench-" + (a + 1), null, List.of(), regions));
        }
        return new FleetFile(list);
    }

    /**
     * One NON_COMPLIANT event per instance of the fleet's accounts (as loaded into the local AWS),
     * in arrival order interleaving accounts and regions.
     */
    public static List<String> configEvents(AwsClients aws, FleetFile fleet) {
        List<List<String>> perTarget = new ArrayList<>();
        int longest = 0;
        for (FleetFile.Account a : fleet.accounts()) {
            for (String region : a.regions().keySet()) {
                List<String> bodies = new ArrayList<>();
                // every generated instance has a Name tag; DescribeTags is far lighter than DescribeInstances in the
                // local AWS
                aws.member(Ec2Client.class, new AccountRegion(a.id(), region), "bench")
                        .describeTagsPaginator(r -> r.maxResults(1000)
                                .filters(
                                        Filter.builder()
                                                .name("resource-type")
                                                .values("instance")
                                                .build(),
                                        Filter.builder()
                                                .name("key")
                                                .values("Name")
                                                .build()))
                        .tags()
                        .forEach(t -> bodies.add(configEvent(a.id(), region, t.resourceId())));
                perTarget.add(bodies);
                longest = Math.max(longest, bodies.size());
            }
        }
        List<String> all = new ArrayList<>();
        for (int i = 0; i < longest; i++) {
            for (List<String> l : perTarget) if (i < l.size()) all.add(l.get(i));
        }
        return all;
    }

    /** The EventBridge envelope Config sends when an instance becomes NON_COMPLIANT with the patch_tags rule. */
    public static String configEvent(String account, String region, String instanceId) {
        return "{\"version\":\"0\",\"id\":\"" + UUID.randomUUID()
                + "\",\"detail-type\":\"Config Rules Compliance Change\","
                + "\"source\":\"aws.config\",\"account\":\"" + account
                + "\",\"time\":\"2026-11-27T05:00:00Z\",\"region\":\"" + region + "\","
                + "\"resources\":[],\"detail\":{\"resourceId\":\"" + instanceId + "\",\"awsRegion\":\"" + region
                + "\",\"awsAccountId\":\""
                + account + "\",\"configRuleName\":\"patch_tags\",\"resourceType\":\"AWS::EC2::Instance\","
                + "\"newEvaluationResult\":{\"complianceType\":\"NON_COMPLIANT\"},\"messageType\":\"ComplianceChangeNotification\"}}";
    }
}
