package io.patchpilot.emergency;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** What emergency requests ask of the hub account: principal ids of IAM names, override lists' existence. */
public final class AwsLookups {
    private static final Pattern S3_URL = Pattern.compile("s3://([^/]+)/(.+)");
    private final AwsClients aws;

    public AwsLookups(AwsClients aws) {
        this.aws = aws;
    }

    /** The id SQS reports as SenderId for this user (AIDA…) or role (AROA…, then :session). */
    @AwsActions(
            value = {"iam:GetUser", "iam:GetRole"},
            principal = AwsActions.Principal.HUB)
    public Optional<String> principalId(Principals.IamName name) {
        IamClient iam = aws.hub(IamClient.class, "aws-global");
        try {
            return Optional.of(
                    name.kind().equals("user")
                            ? iam.getUser(r -> r.userName(name.name())).user().userId()
                            : iam.getRole(r -> r.roleName(name.name())).role().roleId());
        } catch (NoSuchEntityException e) {
            return Optional.empty();
        }
    }

    @AwsActions(value = "s3:GetObject", principal = AwsActions.Principal.HUB)
    public boolean objectExists(String s3Url) {
        Matcher m = S3_URL.matcher(s3Url);
        if (!m.matches()) return false;
        try {
            aws.hub(S3Client.class).headObject(r -> r.bucket(m.group(1)).key(m.group(2)));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return false;
            throw e;
        }
    }
}
