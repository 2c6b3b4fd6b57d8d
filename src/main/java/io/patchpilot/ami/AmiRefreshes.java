package io.patchpilot.ami;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.Selection;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.Filter;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Hooks AutoScaling groups into a patch run: for one account × region of a run whose window (or
 * emergency request) includes ASGs, finds the groups it selects (tagged for the window, or by
 * environment / all for an emergency), records each one the run builds an AMI for as one more
 * thing the run waits for, and starts its pipeline. Exempt groups and groups that cannot be built
 * are recorded with the reason but not waited for.
 */
public final class AmiRefreshes {
    private static final Logger LOG = LoggerFactory.getLogger(AmiRefreshes.class);
    private final AwsClients aws;
    private final Ledger ledger;
    private final String table;
    private final GroupClassifier classifier;
    private final AmiRefreshStep.Continuation next;
    private final Clock clock;

    public AmiRefreshes(
            AwsClients aws,
            Ledger ledger,
            String table,
            GroupClassifier classifier,
            AmiRefreshStep.Continuation next,
            Clock clock) {
        this.aws = aws;
        this.ledger = ledger;
        this.table = table;
        this.classifier = classifier;
        this.next = next;
        this.clock = clock;
    }

    /** ASGs are built for runs that include them and install patches (a Scan changes no image). */
    public static boolean includes(MaintenanceWindow w) {
        return "Yes".equalsIgnoreCase(w.includeAsg()) && "Install".equalsIgnoreCase(w.operation());
    }

    /**
     * Registers the account-region's groups with the run (before the account-region itself can
     * finish, so the run cannot complete without them) and starts their pipelines. Safe to repeat:
     * a group is registered once, and a build not started yet is started again.
     */
    public void register(
            String runId, AccountRegion target, MaintenanceWindow w, Selection selection, String overrideList) {
        register(runId, target, w, selection, overrideList, "ami");
    }

    /**
     * As {@link #register(String, AccountRegion, MaintenanceWindow, Selection, String)}, the lookup
     * made under the member session of {@code job}: a patch step looks its groups up in the session
     * it patches with (one AssumeRole per account, not two); the builds keep their own.
     */
    @AwsActions("autoscaling:DescribeAutoScalingGroups")
    public void register(
            String runId,
            AccountRegion target,
            MaintenanceWindow w,
            Selection selection,
            String overrideList,
            String job) {
        if (!includes(w)) return;
        List<AutoScalingGroup> groups = new ArrayList<>();
        aws.member(AutoScalingClient.class, target, job)
                .describeAutoScalingGroupsPaginator(r -> {
                    if (selection.tagKey() != null)
                        r.filters(Filter.builder()
                                .name("tag:" + selection.tagKey())
                                .values(selection.tagValue())
                                .build());
                })
                .autoScalingGroups()
                .forEach(groups::add);
        Instant now = clock.instant();
        boolean refresh = "Yes".equalsIgnoreCase(w.refreshAsgInstances());
        int started = 0;
        for (AutoScalingGroup g : groups) {
            GroupClassifier.Decision d = classifier.classify(g);
            if (d instanceof GroupClassifier.Report r) {
                ledger.putIfAbsent(
                        AmiBuild.report(runId, target, g.autoScalingGroupName(), r.state(), r.reason(), now));
                continue;
            }
            GroupSpec spec = ((GroupClassifier.Build) d).spec();
            boolean added = addToRun(
                    runId, AmiBuild.item(runId, target, spec, refresh, w.retainHealthyPercentage(), overrideList, now));
            boolean notStarted = added
                    || ledger.get(RunKeys.pk(runId), AmiBuild.sk(target, spec.name()))
                            .map(i -> i.get("state").s().equals(AmiPipeline.Step.RESOLVE.label()))
                            .orElse(false);
            if (notStarted) {
                next.send(AmiRefreshStep.message(runId, target, spec.name()), 0);
                started++;
            }
        }
        if (!groups.isEmpty())
            LOG.info(
                    "Run {} {}: {} AutoScaling groups selected, {} builds started",
                    runId,
                    target,
                    groups.size(),
                    started);
    }

    /** The build item and the run's targetsTotal + 1, together or not at all; false when the group was registered before. */
    @AwsActions(
            value = {"dynamodb:PutItem", "dynamodb:UpdateItem"},
            principal = AwsActions.Principal.HUB)
    private boolean addToRun(String runId, Map<String, AttributeValue> item) {
        try {
            aws.hub(DynamoDbClient.class)
                    .transactWriteItems(r -> r.transactItems(
                            TransactWriteItem.builder()
                                    .put(p -> p.tableName(table)
                                            .item(item)
                                            .conditionExpression("attribute_not_exists(pk)"))
                                    .build(),
                            TransactWriteItem.builder()
                                    .update(u -> u.tableName(table)
                                            .key(Ledger.item(RunKeys.pk(runId), RunKeys.RUN))
                                            .updateExpression("ADD targetsTotal :one")
                                            .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))))
                                    .build()));
            return true;
        } catch (TransactionCanceledException e) {
            if (e.cancellationReasons().stream().anyMatch(r -> "ConditionalCheckFailed".equals(r.code()))) return false;
            throw e;
        }
    }
}
