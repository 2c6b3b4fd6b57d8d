package io.patchpilot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.local.FleetFile;
import io.patchpilot.local.LocalAws;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchCommandPatchingTest {
    @Test
    void generated_fleet_is_tagged_for_the_default_window_in_every_account_and_region() {
        FleetFile fleet = PatchingBench.fleet(3, List.of("us-east-1", "ap-southeast-2"), 20);
        assertEquals(3, fleet.accounts().size());
        assertEquals(List.of("us-east-1", "ap-southeast-2"), List.copyOf(fleet.regions()));
        FleetFile.Instance spec = fleet.accounts()
                .get(2)
                .regions()
                .get("ap-southeast-2")
                .instances()
                .get(0);
        assertEquals(20, spec.count());
        assertEquals(true, spec.ssmManaged());
        assertEquals("Default_maintenance_window", spec.tags().get("maintenance_window"));
        assertEquals("Dev", spec.tags().get("environment"));
    }

    @Test
    void all_selects_every_benchmark_but_patching_in_run_order_and_keeps_explicit_choices() {
        assertEquals(List.of("startup", "sqs", "tagging", "report"), BenchCommand.selected(List.of("all")));
        assertEquals(
                List.of("startup", "sqs", "tagging", "report", "patching"),
                BenchCommand.selected(List.of("patching", "all")));
        assertEquals(List.of("report"), BenchCommand.selected(List.of("report")));
        assertEquals(List.of("sqs", "tagging"), BenchCommand.selected(new BenchCommand().only));
        assertThrows(IllegalArgumentException.class, () -> BenchCommand.selected(List.of("reports")));
    }

    @Test
    void
            minimum_is_one_describe_per_account_region_one_information_and_command_per_50_ids_and_one_assume_role_per_member() {
        List<AccountRegion> scope = List.of(
                new AccountRegion(LocalAws.HUB_ACCOUNT, "us-east-1"),
                        new AccountRegion(LocalAws.HUB_ACCOUNT, "eu-west-1"),
                new AccountRegion("600000000001", "us-east-1"), new AccountRegion("600000000001", "eu-west-1"),
                new AccountRegion("600000000002", "us-east-1"), new AccountRegion("600000000002", "eu-west-1"));
        assertEquals(
                Map.of(
                        "sts:AssumeRole",
                        2L,
                        "ec2:DescribeInstances",
                        6L,
                        "ssm:DescribeInstanceInformation",
                        4L,
                        "ssm:SendCommand",
                        4L),
                PatchingBench.minimum(scope, 20, false));
        assertEquals(8L, PatchingBench.minimum(scope, 51, false).get("ssm:SendCommand"));
        // a window that includes its AutoScaling groups looks them up in every account-region, the hub's too
        assertEquals(6L, PatchingBench.minimum(scope, 20, true).get("autoscaling:DescribeAutoScalingGroups"));
    }

    @Test
    void median_of_an_odd_count_is_the_middle_one_and_of_an_even_count_the_mean_of_the_two_middle_ones() {
        assertEquals(1.37, PatchingBench.median(List.of(2.40, 1.37, 1.10)));
        assertEquals(1.5, PatchingBench.median(List.of(2.0, 1.0)));
    }
}
