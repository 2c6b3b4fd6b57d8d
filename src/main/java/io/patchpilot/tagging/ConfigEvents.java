package io.patchpilot.tagging;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.Organization;
import io.patchpilot.errors.JsonBodies;
import io.patchpilot.errors.PermanentFailure;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Reads an EventBridge envelope of "Config Rules Compliance Change" and decides whether it asks
 * for tagging: one of our rule names, an instance or AutoScaling group, NON_COMPLIANT. Other
 * events are acknowledged and counted. Bodies that are not such envelopes, and events naming an
 * account outside the organization or other than the sending one, are permanent failures.
 */
public final class ConfigEvents {
    private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d");

    private final List<String> ruleNames;
    private final Organization organization;
    private final AtomicLong ignored = new AtomicLong();

    public ConfigEvents(List<String> ruleNames, Organization organization) {
        this.ruleNames = List.copyOf(ruleNames);
        this.organization = organization;
    }

    /** The tag request this event asks for, or null when it asks for none (counted as ignored). */
    public TagRequest toTagRequest(String body) {
        JsonNode event = JsonBodies.object(body);
        String detailType = text(event, "detail-type");
        JsonNode detail = event.get("detail");
        if (detailType == null || detail == null || !detail.isObject()) {
            throw new PermanentFailure("not an EventBridge event: missing 'detail-type' or 'detail'");
        }
        if (!"Config Rules Compliance Change".equals(detailType) || !"aws.config".equals(text(event, "source")))
            return ignore();
        if (!ruleNames.contains(required(detail, "configRuleName"))) return ignore();
        ResourceKind kind = ResourceKind.fromConfigType(text(detail, "resourceType"));
        if (kind == null) return ignore();
        if (!"NON_COMPLIANT"
                .equals(detail.path("newEvaluationResult")
                        .path("complianceType")
                        .asText(null))) return ignore();

        String account = required(detail, "awsAccountId");
        String region = required(detail, "awsRegion");
        String resourceId = required(detail, "resourceId");
        if (!ACCOUNT_ID.matcher(account).matches())
            throw new PermanentFailure("detail.awsAccountId: '" + account + "' is not a 12-digit account id");
        if (!REGION.matcher(region).matches())
            throw new PermanentFailure("detail.awsRegion: '" + region + "' is not a region name");
        String sender = text(event, "account");
        if (sender != null && !sender.equals(account)) {
            throw new PermanentFailure(
                    "detail.awsAccountId " + account + " differs from the sending account " + sender);
        }
        if (!organization.isActiveMember(account)) {
            throw new PermanentFailure(
                    "detail.awsAccountId " + account + " is not an active account of the organization");
        }
        String id = text(event, "id");
        return new TagRequest(
                new AccountRegion(account, region),
                kind,
                resourceName(kind, resourceId),
                "event:" + (id == null ? "unknown" : id));
    }

    /**
     * AWS Config names an AutoScaling group by its ARN
     * ({@code arn:aws:autoscaling:…:autoScalingGroup:UUID:autoScalingGroupName/NAME}); the
     * AutoScaling API, and so tagging, by its name.
     */
    static String resourceName(ResourceKind kind, String resourceId) {
        String marker = ":autoScalingGroupName/";
        int at = resourceId.indexOf(marker);
        if (kind == ResourceKind.AUTO_SCALING_GROUP && resourceId.startsWith("arn:") && at > 0)
            return resourceId.substring(at + marker.length());
        return resourceId;
    }

    public long ignoredCount() {
        return ignored.get();
    }

    private TagRequest ignore() {
        ignored.incrementAndGet();
        return null;
    }

    private static String required(JsonNode detail, String field) {
        String v = text(detail, field);
        if (v == null || v.isBlank()) throw new PermanentFailure("detail." + field + " is missing");
        return v;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isValueNode() ? null : v.asText();
    }
}
