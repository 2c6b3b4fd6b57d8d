package io.patchpilot.emergency;

import java.util.List;

/**
 * A validated emergency patch request: the seed's Step Functions payload (its field names) plus
 * a request id, a reason and rate control. Empty accounts/regions mean all of them.
 */
public record EmergencyRequest(
        String requestId,
        String env,
        boolean includeAsg,
        int retainHealthyPercentage,
        boolean refreshAsgInstances,
        String operation,
        String postPatchOperation,
        String installOverrideList,
        List<String> accounts,
        List<String> regions,
        String reason,
        String maxConcurrency,
        String maxErrors) {
    public EmergencyRequest {
        accounts = List.copyOf(accounts);
        regions = List.copyOf(regions);
    }
}
