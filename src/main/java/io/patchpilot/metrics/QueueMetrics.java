package io.patchpilot.metrics;

import java.util.Optional;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;

/** Counts every exchange a route consumed from SQS, per queue, and whether it failed. */
public final class QueueMetrics extends EventNotifierSupport {
    public QueueMetrics() {
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeSendingEvents(true);
        setIgnoreExchangeSentEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public void notify(CamelEvent event) {
        if (!(event instanceof CamelEvent.ExchangeCompletedEvent) && !(event instanceof CamelEvent.ExchangeFailedEvent))
            return;
        Exchange exchange = ((CamelEvent.ExchangeEvent) event).getExchange();
        queueOf(exchange.getFromEndpoint()).ifPresent(q -> {
            Metrics.messageConsumed(q, exchange.isFailed());
            if (!exchange.isFailed()) Metrics.messageHandled(q, typeOf(exchange));
        });
    }

    /** The type the route dispatched the message by (header {@code patchpilot-type}), else "message". */
    static String typeOf(Exchange exchange) {
        String type = exchange.getMessage().getHeader("patchpilot-type", String.class);
        return type == null || type.isBlank() ? "message" : type;
    }

    /** {@code aws2-sqs://patchpilot-work?…} → patchpilot-work; other endpoints: empty. */
    static Optional<String> queueOf(Endpoint endpoint) {
        return endpoint == null ? Optional.empty() : queueOf(endpoint.getEndpointUri());
    }

    static Optional<String> queueOf(String uri) {
        if (uri == null || !uri.startsWith("aws2-sqs:")) return Optional.empty();
        String rest = uri.substring("aws2-sqs:".length()).replaceFirst("^//", "");
        int q = rest.indexOf('?');
        return Optional.of(q < 0 ? rest : rest.substring(0, q));
    }
}
