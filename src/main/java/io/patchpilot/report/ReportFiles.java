package io.patchpilot.report;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.notify.Notice;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.transfer.s3.model.UploadFileRequest;

/** Report files in the hub's buckets: written, read back for mail attachments, and linked. */
public final class ReportFiles {
    private final AwsClients aws;

    public ReportFiles(AwsClients aws) {
        this.aws = aws;
    }

    @AwsActions(value = "s3:PutObject", principal = AwsActions.Principal.HUB)
    public void write(String bucket, String key, String content, String contentType) {
        aws.hub(S3Client.class)
                .putObject(
                        r -> r.bucket(bucket).key(key).contentType(contentType),
                        RequestBody.fromString(content, StandardCharsets.UTF_8));
    }

    /**
     * Uploads the file as it lies on disk: from {@link AwsClients#PART_BYTES} on, as a multipart
     * upload whose parts go in parallel (a report may be hundreds of megabytes); a failed upload is
     * aborted by the SDK, so no parts are left behind.
     */
    @AwsActions(
            value = {"s3:PutObject", "s3:AbortMultipartUpload"},
            principal = AwsActions.Principal.HUB)
    public void write(String bucket, String key, Path file, String contentType) {
        UploadFileRequest upload = UploadFileRequest.builder()
                .source(file)
                .putObjectRequest(PutObjectRequest.builder()
                        .bucket(bucket)
                        .key(key)
                        .contentType(contentType)
                        .build())
                .build();
        try {
            aws.hubTransfers().uploadFile(upload).completionFuture().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause;
            throw e;
        }
    }

    /** A copy made by S3 itself (CopyObject reads the source and writes the target): no second upload. */
    @AwsActions(
            value = {"s3:GetObject", "s3:PutObject"},
            principal = AwsActions.Principal.HUB)
    public void copy(String bucket, String fromKey, String toKey) {
        aws.hub(S3Client.class)
                .copyObject(r -> r.sourceBucket(bucket)
                        .sourceKey(fromKey)
                        .destinationBucket(bucket)
                        .destinationKey(toKey));
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public Reader open(String bucket, String key) {
        return new InputStreamReader(
                aws.hub(S3Client.class).getObject(r -> r.bucket(bucket).key(key)), StandardCharsets.UTF_8);
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public byte[] read(Notice.Attachment file) {
        return aws.hub(S3Client.class)
                .getObjectAsBytes(r -> r.bucket(file.bucket()).key(file.key()))
                .asByteArray();
    }

    /** How long a pre-signed link works: a week, S3's limit for signature version 4. */
    public static final Duration LINK_VALIDITY = Duration.ofDays(7);

    /** A link anyone with it may download for {@link #LINK_VALIDITY}. */
    public String link(String bucket, String key) {
        return link(bucket, key, LINK_VALIDITY);
    }

    /** A link anyone with it may download for the time given (signing is local: no AWS call). */
    public String link(String bucket, String key, Duration validity) {
        try (var presigner = aws.s3Presigner()) {
            return presigner
                    .presignGetObject(r -> r.signatureDuration(validity)
                            .getObjectRequest(g -> g.bucket(bucket).key(key)))
                    .url()
                    .toString();
        }
    }
}
