package io.patchpilot.bench;

import io.patchpilot.ami.AmiRefreshes;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.tagging.TagPolicy;
import io.patchpilot.windows.MaintenanceWindow;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.InstanceInformationStringFilter;
import software.amazon.awssdk.services.ssm.model.PingStatus;

/**
 * One window fire done with nothing but the plain SDK, the baselines of the patching benchmark:
 * per account-region the minimal calls (DescribeAutoScalingGroups by the window tag where the window
 * includes its groups, DescribeInstances by the window tag, DescribeInstanceInformation and
 * SendCommand for at most 50 ids each; the member role assumed once per account, its credentials
 * cached), no ledger, no queue, no retries beyond the SDK's own. Clients come from the same
 * {@link AwsClients} factory as patchpilot's, under their own job name (their own credential cache).
 */
final class PlainDispatch {
    private static final int IDS_PER_CALL = 50;

    private PlainDispatch() {}

    /** What was sent. */
    record Sent(int targets, int commands, int instances) {}

    /** The account-regions on {@code threads} threads (1 = one after another, the seed's way). */
    static Sent run(
            AwsClients aws,
            List<AccountRegion> scope,
            MaintenanceWindow window,
            String job,
            String comment,
            String logsBucket,
            int threads)
            throws Exception {
        AtomicInteger commands = new AtomicInteger();
        AtomicInteger instances = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (AccountRegion target : scope) {
                futures.add(pool.submit(() -> {
                    int[] sent = one(aws, target, window, job, comment, logsBucket);
                    commands.addAndGet(sent[0]);
                    instances.addAndGet(sent[1]);
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        } finally {
            pool.shutdownNow();
        }
        return new Sent(scope.size(), commands.get(), instances.get());
    }

    /** {commands sent, instances targeted} in one account-region. */
    private static int[] one(
            AwsClients aws,
            AccountRegion target,
            MaintenanceWindow window,
            String job,
            String comment,
            String logsBucket) {
        // the run's AutoScaling groups, looked up as patchpilot does when the window includes them
        if (AmiRefreshes.includes(window))
            PlainGroups.tagged(aws.member(AutoScalingClient.class, target, job), window.name());
        Ec2Client ec2 = aws.member(Ec2Client.class, target, job);
        List<String> running = new ArrayList<>();
        ec2.describeInstancesPaginator(r -> r.maxResults(1000)
                        .filters(Filter.builder()
                                .name("tag:" + TagPolicy.MAINTENANCE_WINDOW)
                                .values(window.name())
                                .build()))
                .reservations()
                .forEach(res -> res.instances().forEach(i -> {
                    if (i.state().name() == InstanceStateName.RUNNING) running.add(i.instanceId());
                }));
        if (running.isEmpty()) return new int[] {0, 0};
        SsmClient ssm = aws.member(SsmClient.class, target, job);
        Set<String> online = new HashSet<>();
        for (int i = 0; i < running.size(); i += IDS_PER_CALL) {
            List<String> chunk = running.subList(i, Math.min(running.size(), i + IDS_PER_CALL));
            ssm.describeInstanceInformation(r -> r.maxResults(IDS_PER_CALL)
                            .filters(InstanceInformationStringFilter.builder()
                                    .key("InstanceIds")
                                    .values(chunk)
                                    .build()))
                    .instanceInformationList()
                    .forEach(info -> {
                        if (info.pingStatus() == PingStatus.ONLINE) online.add(info.instanceId());
                    });
        }
        List<String> ids = running.stream().filter(online::contains).toList();
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        parameters.put("Operation", List.of(window.operation()));
        parameters.put("RebootOption", List.of(window.postPatchOperation()));
        int commands = 0;
        for (int i = 0; i < ids.size(); i += IDS_PER_CALL) {
            List<String> chunk = ids.subList(i, Math.min(ids.size(), i + IDS_PER_CALL));
            ssm.sendCommand(r -> r.documentName("AWS-RunPatchBaseline")
                    .instanceIds(chunk)
                    .comment(comment)
                    .parameters(parameters)
                    .maxConcurrency(window.maxConcurrency())
                    .maxErrors(window.maxErrors())
                    .timeoutSeconds(3600)
                    .outputS3BucketName(logsBucket)
                    .outputS3KeyPrefix("bench/accountid=" + target.account() + "/region=" + target.region()));
            commands++;
        }
        return new int[] {commands, ids.size()};
    }
}
