package io.patchpilot.windows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.aws.QueueSender;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import io.patchpilot.metrics.Metrics;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

/**
 * Window requests from account owners: EventBridge events ({@code source} patchpilot.self-service,
 * {@code detail-type} Window Request) whose envelope {@code account} is the requester, and changes
 * of the owners' window parameters ({@code aws.ssm} {@code Parameter Store Change} of
 * {@code /patchpilot/windows/<Env>}, forwarded by the member StackSet). A request may only touch
 * the requester's own windows; a window a parameter declares changes only with its parameter. An
 * applied change re-tags the account's resources, updates the schedule rules, and is announced as
 * a {@code Window Changed} event; a parameter is tagged with the outcome ({@code patchpilot:status},
 * {@code patchpilot:reason}, {@code patchpilot:version}, {@code patchpilot:next-start}).
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
    private final WindowParameters parameters;
    private final Clock clock;

    public SelfService(
            WindowValidator validator,
            WindowStore store,
            Organization organization,
            Consumer<String> retagAccount,
            QueueSender schedules,
            String eventBus,
            WindowParameters parameters,
            Clock clock) {
        this.validator = validator;
        this.store = store;
        this.organization = organization;
        this.retagAccount = retagAccount;
        this.schedules = schedules;
        this.eventBus = eventBus;
        this.parameters = parameters;
        this.clock = clock;
    }

    /** Applies one request or parameter change; returns the event announcing it (none when it changed nothing). */
    public List<PutEventsRequest> handle(String body) {
        JsonNode event = JsonBodies.object(body);
        if ("aws.ssm".equals(event.path("source").asText())
                && "Parameter Store Change".equals(event.path("detail-type").asText())) {
            return parameterChanged(event);
        }
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
        store.declaration(requested.key())
                .filter(WindowStore.Declaration::byParameter)
                .ifPresent(d -> {
                    throw new PermanentFailure("window: " + requested.name() + " of " + account + " is declared by the "
                            + "parameter " + d.parameter() + " in " + d.region() + "; change or delete the parameter");
                });
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
                        : store.put(requested, WindowStore.Declaration.request())
                                .name()
                                .toLowerCase();
            }
            case "update" -> {
                if (existing.isEmpty())
                    throw new PermanentFailure(
                            "window: " + requested.name() + " does not exist in " + account + "; send action 'create'");
                result = store.put(requested, WindowStore.Declaration.request())
                        .name()
                        .toLowerCase();
            }
            default -> result = store.delete(requested.key()) ? "deleted" : "unchanged";
        }
        return applied(account, action, requested.name(), result);
    }

    /**
     * A window parameter changed (or was deleted): whatever the event says, the parameter as it is
     * now decides, so a late or repeated event changes nothing. A rejected version is tagged with
     * its reason and goes to the DLQ; the window last applied stays.
     */
    private List<PutEventsRequest> parameterChanged(JsonNode event) {
        String account = event.path("account").asText("");
        String region = event.path("region").asText("");
        String name = event.path("detail").path("name").asText("");
        if (!account.matches("\\d{12}"))
            throw new PermanentFailure("account: the envelope names no account that owns the parameter");
        if (!region.matches("[a-z]{2}(-[a-z]+)+-\\d"))
            throw new PermanentFailure("region: the envelope names no region");
        if (ParameterWindow.environment(name).isEmpty())
            throw new PermanentFailure("name: '" + name + "' is not " + WindowParameters.PATH + "<Environment>");
        if (!organization.isActiveMember(account))
            throw new PermanentFailure("account: " + account + " is not an active account of the organization");
        AccountRegion target = new AccountRegion(account, region);
        Optional<WindowParameters.Current> current = parameters.read(target, name);
        String window = ParameterWindow.windowName(name, validator);
        ParameterWindow.Outcome outcome = ParameterWindow.decide(
                name, account, region, current, store.declaration(account + "#" + window), validator);
        // what the sweep compares with: the version handled (applied, rejected or already in force), or none
        if (current.isEmpty()) store.forget(account, region, name);
        if (outcome instanceof ParameterWindow.Keep keep) {
            if (current.isPresent()) store.handled(account, region, name, handled(current.get()));
            LOG.info("Window parameter {} of {} in {}: unchanged ({})", name, account, region, keep.why());
            Metrics.withoutEffect("self-service", "unchanged");
            return List.of();
        }
        if (outcome instanceof ParameterWindow.Reject reject) {
            long version = current.map(WindowParameters.Current::version).orElse(0L);
            String reason = "version " + version + ": " + reject.reason();
            parameters.tag(
                    target,
                    name,
                    Map.of("patchpilot:status", "Rejected", "patchpilot:reason", ParameterWindow.tagValue(reason)));
            store.handled(account, region, name, handled(current.get()));
            throw new PermanentFailure("parameter " + name + " of " + account + " in " + region + " " + reason);
        }
        if (outcome instanceof ParameterWindow.Remove remove) {
            String result = store.delete(remove.key()) ? "deleted" : "unchanged";
            return applied(account, "delete", window, result);
        }
        ParameterWindow.Apply apply = (ParameterWindow.Apply) outcome;
        String result = store.put(apply.window(), apply.declaration()).name().toLowerCase();
        MaintenanceWindow stored = store.get(apply.window().key()).orElse(apply.window());
        parameters.tag(
                target,
                name,
                Map.of(
                        "patchpilot:status", "Applied",
                        "patchpilot:reason", ParameterWindow.tagValue("applied as " + window),
                        "patchpilot:version", Long.toString(apply.declaration().version()),
                        "patchpilot:next-start",
                                WindowSchedule.nextOpening(stored, clock.instant())
                                        .map(Instant::toString)
                                        .orElse("never")));
        store.handled(account, region, name, handled(current.get()));
        return applied(account, result.equals("created") ? "create" : "update", window, result);
    }

    private static WindowStore.Handled handled(WindowParameters.Current p) {
        return new WindowStore.Handled(p.version(), p.modified());
    }

    /** Rules and tags follow the change (also when it changed nothing: a crash may have come between); announced. */
    private List<PutEventsRequest> applied(String account, String action, String window, String result) {
        schedules.send("{\"type\":\"window-sync\"}");
        retagAccount.accept(account);
        if (result.equals("unchanged")) {
            LOG.info(
                    "Self-service {} of {} by {}: unchanged (the windows already were so; rules and tags re-checked)",
                    action,
                    window,
                    account);
            Metrics.withoutEffect("self-service", "unchanged");
            return List.of();
        }
        LOG.info("Self-service {} of {} by {}: {}", action, window, account, result);
        ObjectNode detailOut = JSON.createObjectNode()
                .put("account", account)
                .put("window", window)
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
