package io.patchpilot.windows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.metrics.Metrics;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Window requests from account owners: EventBridge events ({@code source} patchpilot.self-service,
 * {@code detail-type} Window Request) whose envelope {@code account} is the requester. A request
 * may only touch the requester's own windows. An applied change re-tags the account's resources,
 * updates the schedule rules, and is announced as a {@code Window Changed} event.
 */
public final class SelfService {
    private static final Logger LOG = LoggerFactory.getLogger(SelfService.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WindowValidator validator;
    private final WindowStore store;
    private final Organization organization;
    /** Re-tags one account's resources (tagging's reconcile sweep for that account). */
    private final Consumer<String> retagAccount;

    private final QueueSender schedules;
    private final String eventBus;

    public SelfService(
            WindowValidator validator,
            WindowStore store,
            Organization organization,
            Consumer<String> retagAccount,
            QueueSender schedules,
            String eventBus) {
        this.validator = validator;
        this.store = store;
        this.organization = organization;
        this.retagAccount = retagAccount;
        this.schedules = schedules;
        this.eventBus = eventBus;
    }

    /** Applies one request; returns the event announcing it (none when it changed nothing). */
    public List<PutEventsRequest> handle(String body) {
        JsonNode event = JsonBodies.object(body);
        if (!"patchpilot.self-service".equals(event.path("source").asText())
                || !"Window Request".equals(event.path("detail-type").asText())) {
            throw new PermanentFailure(
                    "not a window request: expected source 'patchpilot.self-service' and detail-type 'Window Request'");
        }
        String account = event.path("account").asText("");
        if (!account.matches("\\d{12}"))
            throw new PermanentFailure("account: the envelope names no requesting account");
        if (!organization.isActiveMember(account))
            throw new PermanentFailure("account: " + account + " is not an active account of the organization");
        JsonNode detail = event.path("detail");
        String action = detail.path("action").asText("");
        JsonNode window = detail.get("window");
        MaintenanceWindow requested;
        try {
            requested = switch (action) {
                case "create", "update" -> validator.validate(window, account);
                case "delete" -> validator.validate(onlyEnvironment(window), account);
                default -> throw new PermanentFailure("action: '" + action + "' is not one of create, update, delete");
            };
        } catch (WindowValidator.InvalidWindow e) {
            throw new PermanentFailure("window: " + e.getMessage());
        }
        Optional<MaintenanceWindow> existing = store.get(requested.key());
        String result;
        switch (action) {
            case "create" -> {
                if (existing.isPresent() && !sameParameters(existing.get(), requested)) {
                    throw new PermanentFailure("window: " + requested.name() + " already exists in " + account
                            + "; send action 'update' to change it");
                }
                result = existing.isPresent()
                        ? "unchanged"
                        : store.put(requested).name().toLowerCase();
            }
            case "update" -> {
                if (existing.isEmpty())
                    throw new PermanentFailure(
                            "window: " + requested.name() + " does not exist in " + account + "; send action 'create'");
                result = store.put(requested).name().toLowerCase();
            }
            default -> result = store.delete(requested.key()) ? "deleted" : "unchanged";
        }
        // also for a repeated request: a crash may have come between storing and these
        schedules.send("{\"type\":\"window-sync\"}");
        retagAccount.accept(account);
        if (result.equals("unchanged")) {
            LOG.info(
                    "Self-service {} of {} by {}: unchanged (the windows already were so; rules and tags re-checked)",
                    action,
                    requested.name(),
                    account);
            Metrics.withoutEffect("self-service", "unchanged");
            return List.of();
        }
        LOG.info("Self-service {} of {} by {}: {}", action, requested.name(), account, result);
        ObjectNode detailOut = JSON.createObjectNode()
                .put("account", account)
                .put("window", requested.name())
                .put("action", action)
                .put("result", result);
        return List.of(PutEventsRequest.builder()
                .entries(PutEventsRequestEntry.builder()
                        .eventBusName(eventBus)
                        .source("patchpilot")
                        .detailType("Window Changed")
                        .detail(detailOut.toString())
                        .build())
                .build());
    }

    private static boolean sameParameters(MaintenanceWindow a, MaintenanceWindow b) {
        return a.withAnchor(null).equals(b.withAnchor(null));
    }

    /** A delete names only the environment (and perhaps the account); other fields are ignored. */
    private static JsonNode onlyEnvironment(JsonNode window) {
        ObjectNode n = JSON.createObjectNode();
        if (window != null && window.has("Environment")) n.set("Environment", window.get("Environment"));
        if (window != null && window.has("Account")) n.set("Account", window.get("Account"));
        return n;
    }
}
