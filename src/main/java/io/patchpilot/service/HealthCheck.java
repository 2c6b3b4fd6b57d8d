package io.patchpilot.service;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Readiness: every route started and every queue (with its DLQ) reachable. Queue checks are
 * cached briefly so a load balancer polling /health does not turn into SQS traffic.
 */
public final class HealthCheck {
    private static final Duration QUEUE_CHECK_TTL = Duration.ofSeconds(5);

    private final SqsClient sqs;
    private final DynamoDbClient ddb;
    private final PatchpilotConfig config;
    private final Clock clock;
    private volatile Instant queuesCheckedAt = Instant.MIN;
    private volatile List<String> queueProblems = List.of();

    public HealthCheck(SqsClient sqs, PatchpilotConfig config, Clock clock) {
        this(sqs, null, config, clock);
    }

    /** With a DynamoDB client, readiness also needs the ledger table to answer. */
    public HealthCheck(SqsClient sqs, DynamoDbClient ddb, PatchpilotConfig config, Clock clock) {
        this.ddb = ddb;
        this.sqs = sqs;
        this.config = config;
        this.clock = clock;
    }

    public void ready(Exchange exchange) {
        CamelContext camel = exchange.getContext();
        List<String> problems = new ArrayList<>();
        for (Route route : camel.getRoutes()) {
            if (!camel.getRouteController().getRouteStatus(route.getRouteId()).isStarted()) {
                problems.add("route " + route.getRouteId() + " is not started");
            }
        }
        problems.addAll(queueProblems());
        boolean up = problems.isEmpty();
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, up ? 200 : 503);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage()
                .setBody(
                        up
                                ? "{\"status\":\"UP\"}"
                                : "{\"status\":\"DOWN\",\"problems\":["
                                        + String.join(
                                                ",",
                                                problems.stream()
                                                        .map(HealthCheck::quote)
                                                        .toList()) + "]}");
    }

    @AwsActions(
            value = {"sqs:GetQueueUrl", "dynamodb:GetItem"},
            principal = AwsActions.Principal.HUB)
    private List<String> queueProblems() {
        Instant now = clock.instant();
        if (Duration.between(queuesCheckedAt, now).compareTo(QUEUE_CHECK_TTL) < 0) return queueProblems;
        List<String> problems = new ArrayList<>();
        for (String queue : config.queues().all()) {
            for (String name : List.of(queue, PatchpilotConfig.Queues.deadLetterQueueOf(queue))) {
                try {
                    sqs.getQueueUrl(r -> r.queueName(name));
                } catch (RuntimeException e) {
                    problems.add(
                            "queue " + name + " unreachable: " + e.getClass().getSimpleName());
                }
            }
        }
        if (ddb != null) {
            try {
                ddb.getItem(r -> r.tableName(config.ledgerTable()).key(Ledger.item("HEALTH", "HEALTH")));
            } catch (RuntimeException e) {
                problems.add("table " + config.ledgerTable() + " unreachable: "
                        + e.getClass().getSimpleName());
            }
        }
        queueProblems = List.copyOf(problems);
        queuesCheckedAt = now;
        return queueProblems;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
