package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.ledger.Ledger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

class AmiProgressTest {
    private static Map<String, AttributeValue> item(String... kv) {
        Map<String, AttributeValue> item = new HashMap<>(Ledger.item("RUN#r", "ASG#111111111111#us-east-1#web"));
        item.put("account", Ledger.s("111111111111"));
        item.put("region", Ledger.s("us-east-1"));
        item.put("group", Ledger.s("web"));
        for (int i = 0; i < kv.length; i += 2) item.put(kv[i], Ledger.s(kv[i + 1]));
        return item;
    }

    static Stream<Arguments> shown() {
        return Stream.of(
                Arguments.of(
                        item(
                                "state",
                                "WaitRefresh",
                                "note",
                                "instance refresh r-1 InProgress 50 %",
                                "sourceAmi",
                                "ami-src",
                                "imageId",
                                "ami-new",
                                "launchTemplateId",
                                "lt-1",
                                "sourceVersion",
                                "1",
                                "newVersion",
                                "2",
                                "refreshId",
                                "r-1",
                                "instanceId",
                                "i-1"),
                        List.of(
                                "  111111111111/us-east-1  asg web  WaitRefresh  following the instance refresh (instance refresh r-1 InProgress 50 %)",
                                "    image ami-src → ami-new  lt-1 version 1 → 2  temporary instance i-1  refresh r-1")),
                Arguments.of(
                        item(
                                "state",
                                "Refreshed",
                                "sourceAmi",
                                "ami-src",
                                "imageId",
                                "ami-new",
                                "launchTemplateId",
                                "lt-1",
                                "sourceVersion",
                                "1",
                                "newVersion",
                                "2",
                                "refreshId",
                                "r-1",
                                "scan",
                                "Success: 2 of 2 instances scanned",
                                "pruned",
                                "ami-old",
                                "instanceId",
                                "i-1"),
                        List.of(
                                "  111111111111/us-east-1  asg web  Refreshed",
                                "    image ami-src → ami-new  lt-1 version 1 → 2  refresh r-1  scan Success: 2 of 2 instances scanned  removed old images ami-old")),
                Arguments.of(
                        item(
                                "state",
                                "DeleteImage",
                                "failedStep",
                                "Image",
                                "reason",
                                "InvalidParameterValue: no",
                                "sourceAmi",
                                "ami-src"),
                        List.of(
                                "  111111111111/us-east-1  asg web  DeleteImage  deregistering the new image and its snapshots"
                                        + "  [cleaning up after Image: InvalidParameterValue: no]",
                                "    image ami-src → …")),
                Arguments.of(
                        item(
                                "state",
                                "Failed",
                                "failedStep",
                                "WaitRefresh",
                                "reason",
                                "instance refresh r-1 ended RollbackSuccessful",
                                "cleanupProblems",
                                "DeleteVersion: version 2 of lt-1 not deleted",
                                "sourceAmi",
                                "ami-src",
                                "imageId",
                                "ami-new",
                                "launchTemplateId",
                                "lt-1",
                                "sourceVersion",
                                "1",
                                "newVersion",
                                "2",
                                "refreshId",
                                "r-1"),
                        List.of(
                                "  111111111111/us-east-1  asg web  Failed  (at WaitRefresh: instance refresh r-1 ended RollbackSuccessful)",
                                "    undone: image ami-src → ami-new  lt-1 version 1 → 2  refresh r-1",
                                "    cleanup problems: DeleteVersion: version 2 of lt-1 not deleted")),
                Arguments.of(
                        item("state", "NeedsMigration", "reason", "uses launch configuration lc"),
                        List.of("  111111111111/us-east-1  asg web  NeedsMigration  (uses launch configuration lc)")));
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("shown")
    void runs_show_prints_each_groups_step_and_what_it_made(Map<String, AttributeValue> item, List<String> lines) {
        assertEquals(lines, AmiProgress.lines(item));
    }
}
