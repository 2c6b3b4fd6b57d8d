package io.patchpilot.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The faults the local SQS injects, set through the local AWS's faults API
 * ({@code POST /_localaws/faults}): the rules whose {@code service} is {@code sqs}. A rule matches
 * an operation ({@code *} or a name such as {@code ReceiveMessage}) and draws one fault per call:
 * {@code throttleRate} ({@code throttleCode} {@code RequestThrottled}, the default, or
 * {@code OverLimit}), {@code errorRate} (a 5xx: {@code errorCode}, default {@code InternalError},
 * {@code status}, default 500), {@code resetRate} (ElasticMQ acts, then the connection drops
 * halfway through the answer), {@code duplicateRate} (each message of a ReceiveMessage answer
 * is delivered again). {@code latencyMs}/{@code jitterMs} slow every matched call; {@code times}
 * ends the rule after that many faults. The first matching rule decides, as in the local AWS.
 */
final class SqsFaults {
    enum Fault {
        NONE,
        THROTTLE,
        OVER_LIMIT,
        ERROR,
        RESET,
        DUPLICATE
    }

    record Decision(long delayMillis, Fault fault, int status, String code) {}

    private final List<ObjectNode> rules = new ArrayList<>();
    private final Map<Fault, AtomicLong> injected = new LinkedHashMap<>();
    private final AtomicLong slowed = new AtomicLong();
    /** Read on every request without the lock: no rules, no cost. */
    private volatile boolean active;

    SqsFaults() {
        for (Fault f : Fault.values()) if (f != Fault.NONE) injected.put(f, new AtomicLong());
    }

    /** Replaces the rules with the {@code sqs} ones of a faults body ({@code {"rules": [...]}}). */
    synchronized void load(JsonNode body) {
        rules.clear();
        for (JsonNode r : body.path("rules")) {
            if (r instanceof ObjectNode rule && rule.path("service").asText("*").equalsIgnoreCase("sqs"))
                rules.add(rule.deepCopy());
        }
        active = !rules.isEmpty();
    }

    boolean active() {
        return active;
    }

    synchronized Decision decide(String operation) {
        ObjectNode rule = rules.stream()
                .filter(r -> {
                    String op = r.path("operation").asText("*");
                    return op.equals("*") || op.equalsIgnoreCase(operation);
                })
                .findFirst()
                .orElse(null);
        if (rule == null) return new Decision(0, Fault.NONE, 200, "");
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long delay = rule.path("latencyMs").asLong(0);
        long jitter = rule.path("jitterMs").asLong(0);
        if (jitter > 0) delay += random.nextLong(jitter + 1);
        if (delay > 0) slowed.incrementAndGet();
        double roll = random.nextDouble();
        Fault fault = Fault.NONE;
        double edge = 0;
        for (Map.Entry<String, Fault> e : List.of(
                Map.entry("throttleRate", Fault.THROTTLE),
                Map.entry("errorRate", Fault.ERROR),
                Map.entry("resetRate", Fault.RESET),
                Map.entry("duplicateRate", Fault.DUPLICATE))) {
            edge += rule.path(e.getKey()).asDouble(0);
            if (roll < edge) {
                fault = e.getValue();
                break;
            }
        }
        if (fault == Fault.DUPLICATE && !operation.equals("ReceiveMessage")) fault = Fault.NONE;
        if (fault == Fault.NONE) return new Decision(delay, fault, 200, "");
        if (rule.has("times")) {
            int left = rule.path("times").asInt() - 1;
            rule.put("times", left);
            if (left <= 0) {
                rules.remove(rule);
                active = !rules.isEmpty();
            }
        }
        String code;
        int status;
        if (fault == Fault.THROTTLE) {
            code = rule.path("throttleCode").asText("RequestThrottled");
            if (code.equals("OverLimit")) fault = Fault.OVER_LIMIT;
            status = code.equals("OverLimit") ? 403 : 400;
        } else if (fault == Fault.ERROR) {
            code = rule.path("errorCode").asText("InternalError");
            status = rule.path("status").asInt(500);
        } else {
            code = "";
            status = 200;
        }
        injected.get(fault).incrementAndGet();
        return new Decision(delay, fault, status, code);
    }

    /** The rules still in force and what was injected so far (for GET /_localaws/faults). */
    synchronized Map<String, Object> snapshot() {
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("throttled", injected.get(Fault.THROTTLE).get());
        counts.put("overLimit", injected.get(Fault.OVER_LIMIT).get());
        counts.put("errors", injected.get(Fault.ERROR).get());
        counts.put("resets", injected.get(Fault.RESET).get());
        counts.put("duplicated", injected.get(Fault.DUPLICATE).get());
        counts.put("slowed", slowed.get());
        return Map.of("rules", List.copyOf(rules), "injected", counts);
    }
}
