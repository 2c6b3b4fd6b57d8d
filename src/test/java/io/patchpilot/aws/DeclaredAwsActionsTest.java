package io.patchpilot.aws;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeclaredAwsActionsTest {
    @Test
    void collects_actions_declared_beside_their_call_sites() {
        Map<AwsActions.Principal, Map<String, Set<String>>> all = DeclaredAwsActions.scan();
        Map<String, Set<String>> hub = all.get(AwsActions.Principal.HUB);
        assertTrue(
                hub.get("sts:AssumeRole").contains("io.patchpilot.aws.AwsClients#memberCredentials"), hub.toString());
        assertTrue(hub.containsKey("sqs:SendMessage"), "dead letters are sent by the hub");
        for (Map<String, Set<String>> byAction : all.values()) {
            byAction.keySet().forEach(a -> assertTrue(a.matches("[a-z0-9-]+:[A-Z][A-Za-z0-9]+"), a));
        }
    }

    @Test
    void route_endpoints_contribute_the_actions_they_perform() {
        Map<String, Set<String>> fromRoutes = RouteAwsActions.scan(Path.of("routes"));
        assertTrue(fromRoutes.get("sqs:ReceiveMessage").contains("config-events.camel.yaml"), fromRoutes.toString());
        assertTrue(fromRoutes.get("sqs:ReceiveMessage").containsAll(Set.of("schedules.camel.yaml", "work.camel.yaml")));
        assertTrue(fromRoutes.get("events:PutEvents").contains("events.camel.yaml"));
        assertTrue(
                !fromRoutes.containsKey("sqs:SendMessage"), "no route sends to SQS through an endpoint: " + fromRoutes);
    }
}
