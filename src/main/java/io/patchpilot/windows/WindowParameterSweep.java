package io.patchpilot.windows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.QueueSender;
import java.util.ArrayList;
import java.util.List;

/**
 * The reconcile sweep's part for windows as code: lists an account-region's window parameters and
 * queues, for each one the ledger has not caught up with (an event lost, or arrived out of order),
 * the same check a {@code Parameter Store Change} event starts (operation {@code Reconcile}). The
 * check reads the parameter as it is then, so settling twice changes nothing.
 */
public final class WindowParameterSweep {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WindowParameters parameters;
    private final WindowStore store;
    private final QueueSender selfService;

    public WindowParameterSweep(WindowParameters parameters, WindowStore store, QueueSender selfService) {
        this.parameters = parameters;
        this.store = store;
        this.selfService = selfService;
    }

    /** Queues a check of every window parameter to settle; returns their names. */
    public List<String> settle(AccountRegion target, String sweepId) {
        List<String> names =
                ParameterWindow.toSettle(parameters.list(target), store.handled(target.account(), target.region()));
        List<String> checks = new ArrayList<>();
        for (String name : names) {
            ObjectNode event = JSON.createObjectNode()
                    .put("version", "0")
                    .put("id", sweepId + "#" + target + "#" + name)
                    .put("detail-type", "Parameter Store Change")
                    .put("source", "aws.ssm")
                    .put("account", target.account())
                    .put("region", target.region());
            event.putObject("detail").put("operation", "Reconcile").put("name", name);
            checks.add(event.toString());
        }
        if (!checks.isEmpty()) selfService.send(checks);
        return names;
    }
}
