package io.patchpilot.tagging;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides the patch tags of one instance or AutoScaling group (docs/contract.md#tags): exemptions
 * first, then the environment (missing ⇒ {@code Default}), then the maintenance window (the
 * environment's own window in that account if it has one, else the Default window). It only ever
 * adds or corrects patchpilot's tags; tags the owner set are never removed or renamed.
 */
public final class TagPolicy {
    public static final String ENVIRONMENT = "environment";
    public static final String MAINTENANCE_WINDOW = "maintenance_window";
    public static final String LEGACY_PATCH_GROUP = "Patch Group";
    public static final String DEFAULT_ENVIRONMENT = "Default";
    public static final String WINDOW_SUFFIX = "_maintenance_window";

    private static final List<String> KUBERNETES_PREFIXES =
            List.of("eks:", "kubernetes.io/", "k8s.io/", "alpha.eksctl.io/");
    private static final Set<String> OPT_OUT_KEYS = Set.of("install_patch", "patch_install");
    private static final Set<String> TRUE_VALUES = Set.of("true", "yes", "1", "enabled", "on");
    private static final String CLUSTER_AUTOSCALER = "k8s.io/cluster-autoscaler/enabled";

    private final List<String> environments;
    private final String patchGroupKey;

    /**
     * @param environments  configured environments (Dev, Test, Prod, …), matched case-insensitively
     * @param patchGroupKey the patch-group tag key to write ({@code PatchGroup} by default)
     */
    public TagPolicy(List<String> environments, String patchGroupKey) {
        this.environments = List.copyOf(environments);
        this.patchGroupKey = patchGroupKey;
    }

    public static String windowName(String environment) {
        return environment + WINDOW_SUFFIX;
    }

    /**
     * @param windowEnvironments the environments that have their own window in the resource's account
     */
    public TagDecision decide(ResourceKind kind, Map<String, String> tags, Set<String> windowEnvironments) {
        Optional<String> exemption = kind == ResourceKind.INSTANCE ? instanceExemption(tags) : groupExemption(tags);
        if (exemption.isPresent()) return new TagDecision.Exempt(exemption.get());

        Map<String, String> write = new LinkedHashMap<>();
        String ownerEnvironment = tags.get(ENVIRONMENT);
        String environment;
        if (ownerEnvironment == null || ownerEnvironment.isBlank()) {
            environment = DEFAULT_ENVIRONMENT;
            write.put(ENVIRONMENT, DEFAULT_ENVIRONMENT);
        } else {
            environment = canonical(ownerEnvironment.trim()).orElse(DEFAULT_ENVIRONMENT);
        }
        String windowEnvironment = hasWindow(environment, windowEnvironments) ? environment : DEFAULT_ENVIRONMENT;
        String window = windowName(windowEnvironment);
        if (!window.equals(tags.get(MAINTENANCE_WINDOW))) write.put(MAINTENANCE_WINDOW, window);
        if (!windowEnvironment.equals(tags.get(patchGroupKey))
                && !windowEnvironment.equals(tags.get(LEGACY_PATCH_GROUP))) {
            write.put(patchGroupKey, windowEnvironment);
        }
        return new TagDecision.Apply(environment, window, write);
    }

    private Optional<String> canonical(String environment) {
        if (environment.equalsIgnoreCase(DEFAULT_ENVIRONMENT)) return Optional.of(DEFAULT_ENVIRONMENT);
        return environments.stream()
                .filter(e -> e.equalsIgnoreCase(environment))
                .findFirst();
    }

    private static boolean hasWindow(String environment, Set<String> windowEnvironments) {
        return !environment.equals(DEFAULT_ENVIRONMENT)
                && windowEnvironments.stream().anyMatch(w -> w.equalsIgnoreCase(environment));
    }

    private static Optional<String> instanceExemption(Map<String, String> tags) {
        String group = tags.get("aws:autoscaling:groupName");
        if (group != null) return Optional.of("member of AutoScaling group " + group + " (patched through its AMI)");
        String build = tags.get("patchpilot:ami-build");
        if (build != null) return Optional.of("patchpilot's temporary AMI build instance (" + build + ")");
        return optOut(tags)
                .or(() -> keyStartingWith(tags, KUBERNETES_PREFIXES).map(k -> "EKS/Kubernetes node (tag " + k + ")"))
                .or(() -> keyEqualTo(tags, "AmazonECSManaged").map(k -> "ECS-managed instance (tag " + k + ")"));
    }

    private static Optional<String> groupExemption(Map<String, String> tags) {
        return optOut(tags)
                .or(() -> tags.entrySet().stream()
                        .filter(e -> e.getKey().equalsIgnoreCase(CLUSTER_AUTOSCALER)
                                && TRUE_VALUES.contains(e.getValue().trim().toLowerCase(Locale.ROOT)))
                        .findFirst()
                        .map(e -> "Kubernetes cluster-autoscaler group (tag " + e.getKey() + ")"))
                .or(() -> keyStartingWith(tags, List.of("eks:")).map(k -> "EKS managed node group (tag " + k + ")"))
                .or(() -> keyEqualTo(tags, "AmazonECSManaged").map(k -> "ECS capacity provider group (tag " + k + ")"));
    }

    private static Optional<String> optOut(Map<String, String> tags) {
        return tags.entrySet().stream()
                .filter(e -> OPT_OUT_KEYS.contains(e.getKey().trim().toLowerCase(Locale.ROOT))
                        && e.getValue().trim().equalsIgnoreCase("no"))
                .findFirst()
                .map(e -> "opted out (" + e.getKey() + "=" + e.getValue() + ")");
    }

    private static Optional<String> keyStartingWith(Map<String, String> tags, List<String> prefixes) {
        return tags.keySet().stream()
                .filter(k -> prefixes.stream()
                        .anyMatch(p -> k.toLowerCase(Locale.ROOT).startsWith(p)))
                .sorted()
                .findFirst();
    }

    private static Optional<String> keyEqualTo(Map<String, String> tags, String key) {
        return tags.keySet().stream().filter(k -> k.equalsIgnoreCase(key)).findFirst();
    }
}
