package io.patchpilot.web;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.report.ReportFiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Pre-signed links to what a failed command wrote (stdout, stderr of each document step), for the
 * run page. Only for the logs bucket of the hub's own configuration and only under the run's own
 * prefix ({@code patching/accountid=…/region=…/run=<run>/<command>/<instance>/}): a location
 * recorded otherwise (another bucket, another run, a path with {@code ..}) gets no link.
 */
public final class OutputLinks {
    /** How long a link to command output works. */
    public static final Duration VALIDITY = Duration.ofHours(1);
    /** Files listed per instance (a document writes stdout and stderr per step). */
    static final int FILES_MAX = 10;

    private static final Pattern RUN_OUTPUT = Pattern.compile(
            "patching/accountid=[0-9]{12}/region=[a-z0-9-]{1,30}/run=(?<run>[A-Za-z0-9._:-]{1,200})/[A-Za-z0-9-]{1,64}/(i|mi)-[0-9a-f]{8,32}/");

    public record Link(String name, String url) {}

    private final AwsClients aws;
    private final String logsBucket;
    private final ReportFiles files;

    public OutputLinks(AwsClients aws, String logsBucket) {
        this.aws = aws;
        this.logsBucket = logsBucket;
        this.files = new ReportFiles(aws);
    }

    /** The key prefix of an output location that may be linked for this run, or empty. */
    static Optional<String> linkable(String location, String logsBucket, String runId) {
        String start = "s3://" + logsBucket + "/";
        if (location == null || logsBucket == null || logsBucket.isEmpty() || !location.startsWith(start))
            return Optional.empty();
        String prefix = location.substring(start.length());
        var m = RUN_OUTPUT.matcher(prefix);
        if (!m.matches() || !m.group("run").equals(runId) || prefix.contains("..")) return Optional.empty();
        return Optional.of(prefix);
    }

    /** The files under the location, each with a link valid for {@link #VALIDITY}; none when it may not be linked. */
    @AwsActions(
            value = {"s3:ListBucket", "s3:GetObject"},
            principal = AwsActions.Principal.HUB)
    public List<Link> links(String location, String runId) {
        Optional<String> prefix = linkable(location, logsBucket, runId);
        if (prefix.isEmpty()) return List.of();
        List<Link> out = new ArrayList<>();
        ListObjectsV2Request list = ListObjectsV2Request.builder()
                .bucket(logsBucket)
                .prefix(prefix.get())
                .maxKeys(FILES_MAX)
                .build();
        for (S3Object o : aws.hub(S3Client.class).listObjectsV2(list).contents()) {
            if (!o.key().startsWith(prefix.get()) || o.key().contains("..")) continue;
            out.add(new Link(o.key().substring(prefix.get().length()), files.link(logsBucket, o.key(), VALIDITY)));
        }
        return out;
    }
}
