package io.patchpilot.windows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eventbridge.model.DeleteRuleRequest;
import software.amazon.awssdk.services.eventbridge.model.InputTransformer;
import software.amazon.awssdk.services.eventbridge.model.ListRulesRequest;
import software.amazon.awssdk.services.eventbridge.model.ListRulesResponse;
import software.amazon.awssdk.services.eventbridge.model.PutRuleRequest;
import software.amazon.awssdk.services.eventbridge.model.PutTargetsRequest;
import software.amazon.awssdk.services.eventbridge.model.RemoveTargetsRequest;
import software.amazon.awssdk.services.eventbridge.model.Rule;
import software.amazon.awssdk.services.eventbridge.model.RuleState;
import software.amazon.awssdk.services.eventbridge.model.Target;

/**
 * Makes the hub's EventBridge schedule rules match the stored windows, one rule per window
 * ({@code patchpilot-window-<account|org>-<env>}) whose target puts the window-fire message on
 * {@code patchpilot-schedules}; rules of deleted windows are removed. Re-applying changes nothing.
 * Runs at start-up and on {@code {"type":"window-sync"}} (sent by {@code patchpilot window …}).
 */
public final class WindowRules {
    private static final Logger LOG = LoggerFactory.getLogger(WindowRules.class);
    public static final String PREFIX = "patchpilot-window-";
    private static final String ENDPOINT = "aws2-eventbridge://default?pojoRequest=true&operation=";

    private final WindowStore store;
    private final WindowDirectory directory;
    private final AwsClients aws;
    private final String region;
    private final String schedulesQueue;

    public WindowRules(
            WindowStore store, WindowDirectory directory, AwsClients aws, String region, String schedulesQueue) {
        this.store = store;
        this.directory = directory;
        this.aws = aws;
        this.region = region;
        this.schedulesQueue = schedulesQueue;
    }

    public static String ruleName(MaintenanceWindow w) {
        return PREFIX + (w.organizationWide() ? "org" : w.account()) + "-"
                + w.environment().toLowerCase(Locale.ROOT);
    }

    /** The route's entry ({@code {"type":"window-sync"}}). */
    public int sync(Exchange exchange) {
        return sync(exchange.getContext().createProducerTemplate());
    }

    /** Returns how many rules were created, changed or deleted. */
    @AwsActions(
            value = {
                "events:ListRules",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:DeleteRule"
            },
            principal = AwsActions.Principal.HUB)
    public int sync(ProducerTemplate producer) {
        directory.invalidate(); // windows changed elsewhere (CLI, another replica): tagging reads them afresh
        Map<String, Rule> existing = new HashMap<>();
        String token = null;
        do {
            String next = token;
            ListRulesResponse page = producer.requestBody(
                    ENDPOINT + "listRules",
                    ListRulesRequest.builder()
                            .namePrefix(PREFIX)
                            .nextToken(next)
                            .build(),
                    ListRulesResponse.class);
            page.rules().forEach(r -> existing.put(r.name(), r));
            token = page.nextToken();
        } while (token != null);
        int changes = 0;
        for (MaintenanceWindow w : store.list()) {
            String name = ruleName(w);
            Rule rule = existing.remove(name);
            String expression = WindowSchedule.ruleExpression(w);
            if (rule != null && expression.equals(rule.scheduleExpression()) && rule.state() == RuleState.ENABLED)
                continue;
            producer.requestBody(
                    ENDPOINT + "putRule",
                    PutRuleRequest.builder()
                            .name(name)
                            .scheduleExpression(expression)
                            .state(RuleState.ENABLED)
                            .description("patchpilot " + WindowNames.display(w) + ": " + WindowSchedule.describe(w))
                            .build());
            producer.requestBody(
                    ENDPOINT + "putTargets",
                    PutTargetsRequest.builder().rule(name).targets(target(w)).build());
            changes++;
            LOG.info("Window rule {}: {}", name, expression);
        }
        for (String orphan : existing.keySet()) {
            producer.requestBody(
                    ENDPOINT + "removeTargets",
                    RemoveTargetsRequest.builder()
                            .rule(orphan)
                            .ids("patchpilot-schedules")
                            .build());
            producer.requestBody(
                    ENDPOINT + "deleteRule",
                    DeleteRuleRequest.builder().name(orphan).build());
            changes++;
            LOG.info("Window rule {} deleted (its window is gone)", orphan);
        }
        return changes;
    }

    /** The fire message, with the occurrence time EventBridge fills in. */
    private Target target(MaintenanceWindow w) {
        ObjectNode template =
                WindowStore.JSON.createObjectNode().put("type", "window-fire").put("window", w.name());
        if (!w.organizationWide()) template.put("account", w.account());
        String json = template.toString();
        String withTime = json.substring(0, json.length() - 1) + ",\"time\":<time>}";
        return Target.builder()
                .id("patchpilot-schedules")
                .arn("arn:" + AwsClients.partition(region) + ":sqs:" + region + ":" + aws.hubAccountId() + ":"
                        + schedulesQueue)
                .inputTransformer(InputTransformer.builder()
                        .inputPathsMap(Map.of("time", "$.time"))
                        .inputTemplate(withTime)
                        .build())
                .build();
    }
}
