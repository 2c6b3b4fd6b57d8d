package io.patchpilot.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.ledger.Ledger;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The service's side of {@code patchpilot doctor}'s round trip: a test event put on a member's
 * default bus arrives here through the member's forwarding rule, the hub bus and its
 * patchpilot-doctor rule, as {@code {"type":"doctor-ping","nonce":…,"account":…,"region":…}};
 * it is recorded (one small item per member region and doctor run) so that doctor sees it came through.
 */
public final class DoctorPings {
    static final String PK = "DOCTOR";
    static final String SK_PREFIX = "PING#";
    private static final Pattern NONCE = Pattern.compile("[0-9a-f-]{36}");
    private static final Logger LOG = LoggerFactory.getLogger(DoctorPings.class);

    private final Ledger ledger;
    private final Clock clock;

    public DoctorPings(Ledger ledger, Clock clock) {
        this.ledger = ledger;
        this.clock = clock;
    }

    public void record(String body) {
        JsonNode ping = JsonBodies.object(body);
        String nonce = ping.path("nonce").asText("");
        if (!NONCE.matcher(nonce).matches())
            throw new PermanentFailure("nonce: '" + nonce + "' is not a doctor test-event id");
        String account = ping.path("account").asText("");
        String region = ping.path("region").asText("");
        Map<String, AttributeValue> item = Ledger.item(PK, SK_PREFIX + nonce);
        item.put("account", Ledger.s(account));
        item.put("region", Ledger.s(region));
        item.put("receivedAt", Ledger.s(clock.instant().toString()));
        ledger.put(item);
        LOG.info("doctor test event from {}/{} came through ({})", account, region, nonce);
    }
}
