package io.patchpilot.web;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.report.Csv;
import io.patchpilot.report.ReportTables;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The fleet's instances as the latest report run left them in S3 ({@code reports/latest/*.csv}
 * plus the run's EC2 snapshots for the environment tag). Read once per report run: the ETag of
 * {@code instance_list.csv} says whether a new run has published since (checked at most every
 * {@code recheck}), so requests in between cost no S3 call.
 */
public final class ComplianceSource {
    static final String LATEST = "reports/latest/";

    public record Snapshot(String etag, Instant lastModified, List<Compliance.Instance> instances) {}

    private final AwsClients aws;
    private final String reportsBucket;
    private final String inventoryBucket;
    private final Clock clock;
    private final Duration recheck;
    private volatile Snapshot cached = new Snapshot(null, null, List.of());
    private volatile Instant checkedAt = Instant.MIN;

    public ComplianceSource(
            AwsClients aws, String reportsBucket, String inventoryBucket, Clock clock, Duration recheck) {
        this.aws = aws;
        this.reportsBucket = reportsBucket;
        this.inventoryBucket = inventoryBucket;
        this.clock = clock;
        this.recheck = recheck;
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public synchronized Snapshot latest() {
        Instant now = clock.instant();
        if (Duration.between(checkedAt, now).compareTo(recheck) < 0) return cached;
        S3Client s3 = aws.hub(S3Client.class);
        String etag;
        Instant modified;
        try {
            var head = s3.headObject(r -> r.bucket(reportsBucket).key(LATEST + "instance_list.csv"));
            etag = head.eTag();
            modified = head.lastModified();
        } catch (NoSuchKeyException e) {
            checkedAt = now;
            return cached = new Snapshot(null, null, List.of());
        } catch (S3Exception e) {
            // HeadObject has no error body; without s3:ListBucket on the reports bucket (hub.yaml grants none) a
            // missing object answers 403, not 404: both mean "no report run has published yet".
            if (e.statusCode() != 404 && e.statusCode() != 403) throw e;
            checkedAt = now;
            return cached = new Snapshot(null, null, List.of());
        }
        if (!etag.equals(cached.etag())) {
            cached = new Snapshot(
                    etag, modified, instances(LATEST + "instance_list.csv", LATEST + "patch_compliance_report.csv"));
        }
        checkedAt = now;
        return cached;
    }

    /**
     * The instances of one report run's instance_list and patch_compliance_report CSVs (keys in the
     * reports bucket), with their environment tags from the EC2 snapshots in the inventory bucket.
     */
    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public List<Compliance.Instance> instances(String instanceListKey, String complianceKey) {
        List<Map<String, String>> instanceList =
                Csv.rows(read(reportsBucket, instanceListKey).orElse(""));
        List<Map<String, String>> compliance =
                Csv.rows(read(reportsBucket, complianceKey).orElse(""));
        Set<String> accountRegions = new LinkedHashSet<>();
        instanceList.forEach(r -> accountRegions.add("accountid=" + r.get("accountid") + "/region=" + r.get("region")));
        List<Map<String, String>> ec2 = new ArrayList<>();
        for (String ar : accountRegions) {
            read(inventoryBucket, ReportTables.EC2_PREFIX + "/" + ar + "/instances.json")
                    .ifPresent(nd -> ec2.addAll(Ndjson.rows(nd)));
        }
        return List.copyOf(Compliance.join(instanceList, compliance, ec2));
    }

    private Optional<String> read(String bucket, String key) {
        try {
            return Optional.of(new String(
                    aws.hub(S3Client.class)
                            .getObjectAsBytes(r -> r.bucket(bucket).key(key))
                            .asByteArray(),
                    StandardCharsets.UTF_8));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }
}
