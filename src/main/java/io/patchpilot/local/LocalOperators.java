package io.patchpilot.local;

import io.patchpilot.aws.AwsClients;
import java.util.List;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The local organization's people and data that no template makes: the on-call IAM users who
 * request and approve emergency runs (names in application-local.properties), each with an access
 * key, and a sample InstallOverrideList in the hub's override-lists bucket.
 */
final class LocalOperators {
    static final List<String> USERS = List.of("oncall-requester", "oncall-approver");

    private LocalOperators() {}

    static void create(AwsClients aws, List<String> overrideBuckets) {
        IamClient iam = aws.hub(IamClient.class, "aws-global");
        for (String user : USERS) {
            iam.createUser(r -> r.userName(user));
            iam.createAccessKey(r -> r.userName(user));
        }
        S3Client s3 = aws.hub(S3Client.class);
        for (String bucket : overrideBuckets) {
            s3.putObject(
                    r -> r.bucket(bucket).key(LocalMode.SAMPLE_OVERRIDE_LIST),
                    RequestBody.fromString("patches:\n  - id: 'ALAS2-2026-2101'\n  - id: 'KB5031356'\n"));
        }
    }
}
