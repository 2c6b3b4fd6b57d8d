package io.patchpilot.metrics;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** SDK interceptor: every HTTP attempt of every AWS client counted per service, throttling answers apart. */
public final class AwsCallMetrics implements ExecutionInterceptor {
    @Override
    public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
        int status = context.httpResponse().statusCode();
        Metrics.awsCall(
                attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME),
                attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME),
                status == 429 || isThrottle(context, status));
    }

    private static boolean isThrottle(Context.AfterTransmission context, int status) {
        // Query-protocol services (EC2, AutoScaling, STS) answer throttling as 400/503 with a Throttling code in the
        // body,
        // which is not readable here without consuming it: count 503 (SlowDown / RequestLimitExceeded) as throttling
        // too.
        if (status == 503) return true;
        return context.httpResponse()
                .firstMatchingHeader("x-amzn-ErrorType")
                .map(t -> t.contains("Throttl"))
                .orElse(false);
    }
}
