package io.patchpilot.report;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.notify.Notice;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** Report files in the hub's buckets: written, read back for mail attachments, and linked. */
public final class ReportFiles {
    private final AwsClients aws;

    public ReportFiles(AwsClients aws) {
        this.aws = aws;
    }

    @AwsActions(value = "s3:PutObject", principal = AwsActions.Principal.HUB)
    public void write(String bucket, String key, String content, String contentType) {
        aws.hub(S3Client.class).putObject(r -> r.bucket(bucket).key(key).contentType(contentType), RequestBody.fromString(content, StandardCharsets.UTF_8));
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public byte[] read(Notice.Attachment file) {
        return aws.hub(S3Client.class).getObjectAsBytes(r -> r.bucket(file.bucket()).key(file.key())).asByteArray();
    }

    /** A link anyone with it may download for a week (S3's limit for signature version 4). */
    public String link(String bucket, String key) {
        try (var presigner = aws.s3Presigner()) {
            return presigner.presignGetObject(r -> r.signatureDuration(Duration.ofDays(7)).getObjectRequest(g -> g.bucket(bucket).key(key)))
                    .url().toString();
        }
    }
}
