package io.patchpilot.report;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.errors.PermanentFailure;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.s3.S3Client;

/** Athena writes each result as CSV to its output location: read it whole rather than paging GetQueryResults. */
public final class AthenaResults {
    private static final Pattern S3_URL = Pattern.compile("s3://([^/]+)/(.+)");
    private final AwsClients aws;

    public AthenaResults(AwsClients aws) {
        this.aws = aws;
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public String csv(String state, String outputLocation) {
        if (!"SUCCEEDED".equals(state)) throw new PermanentFailure("athena: query ended " + state + " (see " + outputLocation + ")");
        Matcher m = S3_URL.matcher(outputLocation == null ? "" : outputLocation);
        if (!m.matches()) throw new IllegalStateException("athena: no output location for a succeeded query");
        return aws.hub(S3Client.class).getObjectAsBytes(r -> r.bucket(m.group(1)).key(m.group(2))).asString(StandardCharsets.UTF_8);
    }
}
