package io.patchpilot.patching;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.tagging.ResourceKind;
import io.patchpilot.tagging.TagDecision;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.windows.Selection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.InstanceInformationStringFilter;
import software.amazon.awssdk.services.ssm.model.PingStatus;

/**
 * The instances a window patches in one account and region: tagged for the window, running,
 * managed by SSM (online), not exempt. Everything else tagged for the window is skipped, with why.
 * The run and {@code patchpilot plan} use this same code.
 */
public final class TargetDiscovery {
    private final AwsClients aws;
    private final TagPolicy policy;

    public TargetDiscovery(AwsClients aws, TagPolicy policy) {
        this.aws = aws;
        this.policy = policy;
    }

    /** Targets to patch, and skipped instance → reason. */
    public record Targets(List<String> patch, Map<String, String> skipped) {}

    public Targets find(AccountRegion target, String windowName, String job) {
        return find(target, Selection.window(windowName), job);
    }

    @AwsActions({"ec2:DescribeInstances", "ssm:DescribeInstanceInformation"})
    public Targets find(AccountRegion target, Selection selection, String job) {
        Ec2Client ec2 = aws.member(Ec2Client.class, target, job);
        Map<String, Instance> tagged = new LinkedHashMap<>();
        ec2.describeInstancesPaginator(r -> {
                    r.maxResults(1000);
                    if (selection.tagKey() != null)
                        r.filters(Filter.builder()
                                .name("tag:" + selection.tagKey())
                                .values(selection.tagValue())
                                .build());
                })
                .reservations()
                .forEach(res -> res.instances().forEach(i -> tagged.put(i.instanceId(), i)));
        Map<String, String> skipped = new LinkedHashMap<>();
        List<String> candidates = new ArrayList<>();
        tagged.forEach((id, i) -> {
            InstanceStateName state = i.state().name();
            if (state != InstanceStateName.RUNNING) {
                if (state != InstanceStateName.TERMINATED && state != InstanceStateName.SHUTTING_DOWN)
                    skipped.put(id, "instance is " + state);
                return;
            }
            Map<String, String> tags = new HashMap<>();
            i.tags().forEach(t -> tags.put(t.key(), t.value()));
            if (policy.decide(ResourceKind.INSTANCE, tags, Set.of()) instanceof TagDecision.Exempt e) {
                skipped.put(id, "exempt: " + e.reason());
                return;
            }
            candidates.add(id);
        });
        Set<String> online = new HashSet<>();
        SsmClient ssm = aws.member(SsmClient.class, target, job);
        for (int i = 0; i < candidates.size(); i += 50) {
            List<String> chunk = candidates.subList(i, Math.min(candidates.size(), i + 50));
            ssm.describeInstanceInformationPaginator(r -> r.maxResults(50)
                            .filters(InstanceInformationStringFilter.builder()
                                    .key("InstanceIds")
                                    .values(chunk)
                                    .build()))
                    .instanceInformationList()
                    .forEach(info -> {
                        if (info.pingStatus() == PingStatus.ONLINE) online.add(info.instanceId());
                    });
        }
        List<String> patch = new ArrayList<>();
        for (String id : candidates) {
            if (online.contains(id)) patch.add(id);
            else skipped.put(id, "not managed by SSM (agent not reporting)");
        }
        return new Targets(patch, skipped);
    }
}
