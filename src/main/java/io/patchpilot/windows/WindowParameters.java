package io.patchpilot.windows;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.AddTagsToResourceRequest;
import software.amazon.awssdk.services.ssm.model.GetParameterRequest;
import software.amazon.awssdk.services.ssm.model.GetParametersByPathRequest;
import software.amazon.awssdk.services.ssm.model.Parameter;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;
import software.amazon.awssdk.services.ssm.model.ResourceTypeForTagging;
import software.amazon.awssdk.services.ssm.model.Tag;

/**
 * The window parameters {@code /patchpilot/windows/<Env>} in a member account, read and tagged
 * through its execution role. Values are never decrypted: a SecureString is read as its type only.
 */
public class WindowParameters {
    /** The path under which a parameter declares a window. */
    public static final String PATH = "/patchpilot/windows/";

    private final AwsClients aws;

    public WindowParameters(AwsClients aws) {
        this.aws = aws;
    }

    /** A parameter as read now: its type, value (not decrypted), version and modification time. */
    public record Current(String name, String type, String value, long version, Instant modified) {}

    /** The parameter's current version; empty when it does not exist (deleted). */
    @AwsActions("ssm:GetParameter")
    public Optional<Current> read(AccountRegion target, String name) {
        SsmClient ssm = aws.member(SsmClient.class, target, "windows");
        try {
            Parameter p = ssm.getParameter(GetParameterRequest.builder()
                            .name(name)
                            .withDecryption(false)
                            .build())
                    .parameter();
            return Optional.of(new Current(p.name(), p.typeAsString(), p.value(), p.version(), p.lastModifiedDate()));
        } catch (ParameterNotFoundException e) {
            return Optional.empty();
        }
    }

    /** Every window parameter of the account-region (names, types, versions; values not needed, never decrypted). */
    @AwsActions("ssm:GetParametersByPath")
    public List<Current> list(AccountRegion target) {
        SsmClient ssm = aws.member(SsmClient.class, target, "windows");
        List<Current> out = new ArrayList<>();
        ssm
                .getParametersByPathPaginator(GetParametersByPathRequest.builder()
                        .path(PATH)
                        .recursive(false)
                        .withDecryption(false)
                        .build())
                .stream()
                .flatMap(page -> page.parameters().stream())
                .forEach(p -> out.add(new Current(p.name(), p.typeAsString(), "", p.version(), p.lastModifiedDate())));
        return out;
    }

    /** Writes the outcome on the parameter (a tag change is no parameter change: no event, no new version). */
    @AwsActions("ssm:AddTagsToResource")
    public void tag(AccountRegion target, String name, Map<String, String> tags) {
        List<Tag> list = new ArrayList<>();
        tags.forEach((k, v) -> list.add(Tag.builder().key(k).value(v).build()));
        aws.member(SsmClient.class, target, "windows")
                .addTagsToResource(AddTagsToResourceRequest.builder()
                        .resourceType(ResourceTypeForTagging.PARAMETER)
                        .resourceId(name)
                        .tags(list)
                        .build());
    }
}
