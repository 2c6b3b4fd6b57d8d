package io.patchpilot.tagging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TagPolicyTest {
    private static final TagPolicy POLICY = new TagPolicy(List.of("Dev", "Test", "Prod"), "PatchGroup");
    private static final ResourceKind I = ResourceKind.INSTANCE;
    private static final ResourceKind G = ResourceKind.AUTO_SCALING_GROUP;

    /** kind, current tags ("k=v;k=v"), environments with their own window, expected ("exempt:<reason start>" or tags to write). */
    static Stream<Arguments> table() {
        return Stream.of(
                row(
                        "untagged instance gets Default env and window",
                        I,
                        "",
                        "",
                        "environment=Default;maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row(
                        "Dev without a Dev window falls back to Default",
                        I,
                        "environment=Dev",
                        "",
                        "maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row(
                        "Dev with a Dev window gets it",
                        I,
                        "environment=Dev",
                        "Dev",
                        "maintenance_window=Dev_maintenance_window;PatchGroup=Dev"),
                row(
                        "environment value matched case-insensitively",
                        I,
                        "environment=prod",
                        "Prod",
                        "maintenance_window=Prod_maintenance_window;PatchGroup=Prod"),
                row(
                        "window of another env does not apply",
                        I,
                        "environment=Test",
                        "Dev",
                        "maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row(
                        "unknown env keeps the owner's tag, Default window",
                        I,
                        "environment=Sandbox",
                        "Dev",
                        "maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row(
                        "already right: nothing to write",
                        I,
                        "environment=Dev;maintenance_window=Dev_maintenance_window;PatchGroup=Dev",
                        "Dev",
                        ""),
                row(
                        "legacy 'Patch Group' key counts as the same",
                        I,
                        "environment=Dev;maintenance_window=Dev_maintenance_window;Patch Group=Dev",
                        "Dev",
                        ""),
                row(
                        "wrong window corrected, owner tags kept",
                        I,
                        "environment=Dev;maintenance_window=Prod_maintenance_window;PatchGroup=Dev;owner=a@b",
                        "Dev",
                        "maintenance_window=Dev_maintenance_window"),
                row(
                        "window removed: back to Default",
                        I,
                        "environment=Dev;maintenance_window=Dev_maintenance_window;PatchGroup=Dev",
                        "",
                        "maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row("install_patch=no exempts", I, "install_patch=no", "", "exempt:opted out (install_patch=no)"),
                row(
                        "opt-out key and value are case-insensitive",
                        I,
                        "Install_Patch=NO",
                        "",
                        "exempt:opted out (Install_Patch=NO)"),
                row(
                        "patch_install=no means the same",
                        I,
                        "Patch_Install=No",
                        "",
                        "exempt:opted out (Patch_Install=No)"),
                row(
                        "install_patch=yes does not exempt",
                        I,
                        "install_patch=yes;environment=Dev",
                        "Dev",
                        "maintenance_window=Dev_maintenance_window;PatchGroup=Dev"),
                row(
                        "ASG member exempt",
                        I,
                        "aws:autoscaling:groupName=web",
                        "",
                        "exempt:member of AutoScaling group web"),
                row(
                        "AMI build instance exempt (patched by its build)",
                        I,
                        "patchpilot:ami-build=pp-1;environment=Dev;maintenance_window=Dev_maintenance_window",
                        "Dev",
                        "exempt:patchpilot's temporary AMI build instance (pp-1)"),
                row(
                        "eks: prefix exempt",
                        I,
                        "eks:cluster-name=c1",
                        "",
                        "exempt:EKS/Kubernetes node (tag eks:cluster-name)"),
                row(
                        "kubernetes.io/ prefix exempt",
                        I,
                        "kubernetes.io/cluster/c1=owned",
                        "",
                        "exempt:EKS/Kubernetes node"),
                row(
                        "k8s.io/ prefix exempt, any case",
                        I,
                        "K8s.io/role/node=1",
                        "",
                        "exempt:EKS/Kubernetes node (tag K8s.io/role/node)"),
                row(
                        "alpha.eksctl.io/ prefix exempt",
                        I,
                        "Alpha.eksctl.io/cluster-name=x",
                        "",
                        "exempt:EKS/Kubernetes node"),
                row(
                        "a key merely containing eks is not exempt",
                        I,
                        "geeks:club=1",
                        "",
                        "environment=Default;maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row("ECS-managed exempt", I, "AmazonECSManaged=", "", "exempt:ECS-managed instance"),
                row(
                        "group gets tags like an instance",
                        G,
                        "environment=Test",
                        "Test",
                        "maintenance_window=Test_maintenance_window;PatchGroup=Test"),
                row(
                        "untagged group gets Default",
                        G,
                        "",
                        "",
                        "environment=Default;maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row(
                        "cluster-autoscaler group exempt",
                        G,
                        "k8s.io/cluster-autoscaler/enabled=TRUE",
                        "",
                        "exempt:Kubernetes cluster-autoscaler group"),
                row(
                        "cluster-autoscaler 'yes' means true",
                        G,
                        "k8s.io/cluster-autoscaler/enabled=yes",
                        "",
                        "exempt:Kubernetes cluster-autoscaler group"),
                row(
                        "cluster-autoscaler false does not exempt",
                        G,
                        "k8s.io/cluster-autoscaler/enabled=false",
                        "",
                        "environment=Default;maintenance_window=Default_maintenance_window;PatchGroup=Default"),
                row("EKS managed node group exempt", G, "eks:nodegroup-name=ng", "", "exempt:EKS managed node group"),
                row(
                        "ECS capacity provider group exempt",
                        G,
                        "AmazonECSManaged=",
                        "",
                        "exempt:ECS capacity provider group"),
                row("group opt-out", G, "install_patch=No", "", "exempt:opted out"));
    }

    private static Arguments row(String name, ResourceKind kind, String tags, String windows, String expected) {
        return Arguments.of(
                name, kind, parse(tags), windows.isEmpty() ? Set.of() : Set.of(windows.split(",")), expected);
    }

    private static Map<String, String> parse(String s) {
        Map<String, String> m = new LinkedHashMap<>();
        if (s.isEmpty()) return m;
        Arrays.stream(s.split(";")).forEach(kv -> {
            int i = kv.indexOf('=');
            m.put(kv.substring(0, i), kv.substring(i + 1));
        });
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(String name, ResourceKind kind, Map<String, String> tags, Set<String> windows, String expected) {
        TagDecision d = POLICY.decide(kind, tags, windows);
        if (expected.startsWith("exempt:")) {
            TagDecision.Exempt e = (TagDecision.Exempt) d;
            assertEquals(true, e.reason().startsWith(expected.substring(7)), e.reason());
        } else {
            assertEquals(parse(expected), ((TagDecision.Apply) d).tagsToWrite());
        }
    }

    @ParameterizedTest(name = "custom patch group key {0}")
    @MethodSource("keys")
    void patch_group_key_is_configurable(String key) {
        TagDecision.Apply d = (TagDecision.Apply)
                new TagPolicy(List.of("Dev"), key).decide(I, Map.of("environment", "Dev"), Set.of("Dev"));
        assertEquals("Dev", d.tagsToWrite().get(key));
    }

    static Stream<String> keys() {
        return Stream.of("PatchGroup", "patch-group");
    }
}
