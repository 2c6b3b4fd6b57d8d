package io.patchpilot.report;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.errors.PermanentFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.athena.AthenaClient;
import software.amazon.awssdk.services.athena.model.QueryExecutionStatus;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Athena writes each result as CSV to its output location: fetch that file rather than paging
 * GetQueryResults, streamed to a temporary file (a report may have a million rows).
 */
public final class AthenaResults {
    private static final Pattern S3_URL = Pattern.compile("s3://([^/]+)/(.+)");
    private final AwsClients aws;

    public AthenaResults(AwsClients aws) {
        this.aws = aws;
    }

    @AwsActions(
            value = {"s3:GetObject", "athena:GetQueryExecution", "athena:StopQueryExecution"},
            principal = AwsActions.Principal.HUB)
    public Path csv(String state, String outputLocation, String queryExecutionId) throws IOException {
        if (!"SUCCEEDED".equals(state)) throw new PermanentFailure("athena: " + unsuccessful(state, queryExecutionId));
        Matcher m = S3_URL.matcher(outputLocation == null ? "" : outputLocation);
        if (!m.matches()) throw new IllegalStateException("athena: no output location for a succeeded query");
        Path out = Files.createTempFile("patchpilot-athena-", ".csv");
        Files.delete(out); // the SDK writes a file that does not exist yet
        try {
            aws.hub(S3Client.class).getObject(r -> r.bucket(m.group(1)).key(m.group(2)), out);
        } catch (RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        return out;
    }

    /**
     * Why a query did not succeed, in Athena's words (its StateChangeReason); one still queued or
     * running when the route stopped waiting (its time limit) is stopped, never left running.
     */
    private String unsuccessful(String state, String queryExecutionId) {
        if (queryExecutionId == null) return "query ended " + state;
        AthenaClient athena = aws.hub(AthenaClient.class);
        if ("QUEUED".equals(state) || "RUNNING".equals(state)) {
            athena.stopQueryExecution(r -> r.queryExecutionId(queryExecutionId));
            return "query " + queryExecutionId + " still " + state + " at its time limit: stopped";
        }
        QueryExecutionStatus status = athena.getQueryExecution(r -> r.queryExecutionId(queryExecutionId))
                .queryExecution()
                .status();
        return "query " + queryExecutionId + " " + status.stateAsString()
                + (status.stateChangeReason() == null ? "" : ": " + status.stateChangeReason());
    }
}
