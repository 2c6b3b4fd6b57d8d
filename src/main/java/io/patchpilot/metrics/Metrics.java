package io.patchpilot.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * The service's meters, scraped at {@code /metrics} in Prometheus text format. One registry per
 * process: the SDK interceptor, the dead-letter sender and the run ledger record into it from
 * wherever they run (names and labels: docs/contract.md#http-api).
 */
public final class Metrics {
    private static final PrometheusMeterRegistry REGISTRY = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public Metrics() {}

    public static PrometheusMeterRegistry registry() {
        return REGISTRY;
    }

    public static void messageConsumed(String queue, boolean failed) {
        Counter.builder("patchpilot.messages.consumed")
                .description("SQS messages processed by a route, per queue")
                .tag("queue", queue)
                .register(REGISTRY)
                .increment();
        if (failed) {
            Counter.builder("patchpilot.messages.failed")
                    .description("SQS messages whose route failed (left for redelivery), per queue")
                    .tag("queue", queue)
                    .register(REGISTRY)
                    .increment();
        }
    }

    /** A message a route handled without failing, by queue and message type (the route's patchpilot-type, else "message"). */
    public static void messageHandled(String queue, String type) {
        Counter.builder("patchpilot.messages.handled")
                .description("SQS messages a route handled without failing, per queue and message type")
                .tag("queue", queue)
                .tag("type", type)
                .register(REGISTRY)
                .increment();
    }

    /** What a Config event's tagging found: TAGGED (tags written), ALREADY_RIGHT (e.g. a redelivery), EXEMPT, GONE. */
    public static void tagOutcome(String result) {
        Counter.builder("patchpilot.tag.outcomes")
                .description("Config events by what their tagging found (ALREADY_RIGHT: nothing to write)")
                .tag("result", result)
                .register(REGISTRY)
                .increment();
    }

    /**
     * A valid message that did nothing, with why (it was logged at INFO or dead-lettered with that
     * reason): by message type and a short reason ({@code not-an-occurrence}, {@code unchanged}, …).
     */
    public static void withoutEffect(String type, String reason) {
        Counter.builder("patchpilot.messages.without.effect")
                .description("valid messages that did nothing, by type and reason (logged at INFO or dead-lettered)")
                .tag("type", type)
                .tag("reason", reason)
                .register(REGISTRY)
                .increment();
    }

    public static void deadLettered(String queue) {
        Counter.builder("patchpilot.messages.dead.lettered")
                .description("messages sent to a queue's DLQ as permanent failures")
                .tag("queue", queue)
                .register(REGISTRY)
                .increment();
    }

    /**
     * A message or step that arrived again after its side effect had happened (SQS delivers at
     * least once; senders retry): acknowledged without doing it twice. Per kind of work.
     */
    public static void duplicateSuppressed(String kind, long count) {
        if (count <= 0) return;
        Counter.builder("patchpilot.duplicates.suppressed")
                .description("repeated messages or steps whose side effect had already happened")
                .tag("kind", kind)
                .register(REGISTRY)
                .increment(count);
    }

    public static void awsCall(String service, String operation, boolean throttled) {
        Counter.builder("patchpilot.aws.calls")
                .description("AWS API calls (attempts), per service")
                .tag("service", service)
                .register(REGISTRY)
                .increment();
        if (throttled) {
            Counter.builder("patchpilot.aws.throttles")
                    .description("AWS API attempts answered with throttling, per service")
                    .tag("service", service)
                    .register(REGISTRY)
                    .increment();
        }
    }

    /** A run ended: its duration from creation to finish and its instance outcome counts. */
    public static void runCompleted(String status, Duration duration, Map<String, Long> counts) {
        Timer.builder("patchpilot.run.duration")
                .description("patch run duration, creation to last account-region done")
                .tag("status", status)
                .register(REGISTRY)
                .record(duration);
        instancesEnded(counts);
    }

    /**
     * Instance outcomes a run adds to the patched and failed counters: all at its end; when it ends
     * again (a step resumed from the DLQ), only the outcomes new since its earlier end.
     */
    public static void instancesEnded(Map<String, Long> counts) {
        long patched = counts.getOrDefault("Success", 0L);
        long failed = counts.getOrDefault("Failed", 0L)
                + counts.getOrDefault("TimedOut", 0L)
                + counts.getOrDefault("Cancelled", 0L)
                + counts.getOrDefault("Undeliverable", 0L);
        Counter.builder("patchpilot.instances.patched")
                .description("instances whose patch command succeeded")
                .register(REGISTRY)
                .increment(patched);
        Counter.builder("patchpilot.instances.failed")
                .description("instances whose patch command failed, timed out or was undeliverable")
                .register(REGISTRY)
                .increment(failed);
    }

    public static void reportCompleted(Duration duration) {
        Timer.builder("patchpilot.report.duration")
                .description("report run duration, request to publication")
                .register(REGISTRY)
                .record(duration);
    }

    /** The {@code /metrics} route. */
    public void scrape(Exchange exchange) {
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setBody(REGISTRY.scrape());
    }
}
