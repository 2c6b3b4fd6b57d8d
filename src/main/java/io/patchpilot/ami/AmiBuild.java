package io.patchpilot.ami;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchpilot.ami.AmiPipeline.Step;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * One group's build in the ledger: item {@code RUN#<run>} / {@code ASG#<account>#<region>#<group>}
 * with the pipeline step it is at, what the group looked like when the run selected it, and every
 * resource the build created so far (so any replica can continue it, and cleanup knows what to undo).
 */
public final class AmiBuild {
    public static final String PREFIX = "ASG#";
    private static final ObjectMapper JSON = new ObjectMapper();

    // what the run selected
    static final String ACCOUNT = "account", REGION = "region", GROUP = "group", STATE = "state";
    static final String LT_ID = "launchTemplateId",
            GROUP_VERSION = "groupVersion",
            MIXED = "mixed",
            OVERRIDE_TYPES = "overrideTypes";
    static final String SUBNETS = "subnets",
            AZS = "availabilityZones",
            TAGS = "patchTags",
            REFRESH = "refresh",
            MIN_HEALTHY = "minHealthy";
    static final String OVERRIDE_LIST = "installOverrideList",
            TOKEN = "token",
            CREATED = "createdAt",
            STEP_AT = "stepAt";
    // resolved from the launch template
    static final String SOURCE_AMI = "sourceAmi", SOURCE_VERSION = "sourceVersion", INSTANCE_TYPE = "instanceType";
    static final String PROFILE_ARN = "profileArn", PROFILE_NAME = "profileName", SECURITY_GROUPS = "securityGroups";
    static final String SECURITY_GROUP_NAMES = "securityGroupNames", SUBNET = "subnet", AZ = "availabilityZone";
    // created
    static final String INSTANCE = "instanceId",
            INSTALL_COMMAND = "installCommandId",
            IMAGE = "imageId",
            IMAGE_NAME = "imageName";
    static final String NEW_VERSION = "newVersion",
            REFRESH_ID = "refreshId",
            SCAN_COMMAND = "scanCommandId",
            SCAN_RESULT = "scan";
    static final String PRUNE = "prune", PRUNED = "pruned";
    // outcome
    static final String NOTE = "note",
            REASON = "reason",
            FAILED_STEP = "failedStep",
            WARNING = "warning",
            CLEANUP = "cleanupProblems";
    static final String FINISHED = "finishedAt";
    /** The finished pipeline steps, a JSON array (see {@link AmiSteps}); the refresh's last percentage. */
    static final String HISTORY = "history", REFRESH_PERCENT = "refreshPercent";

    private final String runId;
    private final Map<String, AttributeValue> item;

    AmiBuild(String runId, Map<String, AttributeValue> item) {
        this.runId = runId;
        this.item = item;
    }

    public static String sk(AccountRegion target, String group) {
        return PREFIX + target.account() + "#" + target.region() + "#" + group;
    }

    public static boolean isBuild(Map<String, AttributeValue> item) {
        return item.get("sk").s().startsWith(PREFIX);
    }

    public String runId() {
        return runId;
    }

    public AccountRegion target() {
        return new AccountRegion(get(ACCOUNT), get(REGION));
    }

    public String group() {
        return get(GROUP);
    }

    public String pk() {
        return item.get("pk").s();
    }

    public String sk() {
        return item.get("sk").s();
    }

    public Step step() {
        return Step.of(get(STATE));
    }

    public Instant stepAt() {
        return Instant.parse(get(STEP_AT));
    }

    public boolean refresh() {
        return Boolean.parseBoolean(get(REFRESH));
    }

    public boolean mixed() {
        return Boolean.parseBoolean(get(MIXED));
    }

    public int minHealthy() {
        return Integer.parseInt(get(MIN_HEALTHY));
    }

    /** A recorded fact, or "" when it is not (yet) known. */
    public String get(String key) {
        AttributeValue v = item.get(key);
        return v == null || v.s() == null ? "" : v.s();
    }

    public boolean has(String key) {
        return !get(key).isEmpty();
    }

    /** A comma-separated fact as a list. */
    public List<String> list(String key) {
        String v = get(key);
        return v.isEmpty() ? List.of() : Arrays.stream(v.split(",")).toList();
    }

    /** The version the group had when the run selected it, as the group named it ({@code $Default} if it named none). */
    public String groupVersion() {
        return has(GROUP_VERSION) ? get(GROUP_VERSION) : "$Default";
    }

    static Map<String, AttributeValue> item(
            String runId,
            AccountRegion target,
            GroupSpec g,
            boolean refresh,
            int minHealthy,
            String overrideList,
            Instant now) {
        Map<String, AttributeValue> item = Ledger.item(RunKeys.pk(runId), sk(target, g.name()));
        put(item, ACCOUNT, target.account());
        put(item, REGION, target.region());
        put(item, GROUP, g.name());
        put(item, STATE, Step.RESOLVE.label());
        put(item, LT_ID, g.launchTemplateId());
        put(item, GROUP_VERSION, g.version());
        put(item, MIXED, Boolean.toString(g.mixed()));
        put(item, OVERRIDE_TYPES, String.join(",", g.overrideTypes()));
        put(item, SUBNETS, String.join(",", g.subnets()));
        put(item, AZS, String.join(",", g.availabilityZones()));
        put(item, TAGS, JSON.valueToTree(g.patchTags()).toString());
        put(item, REFRESH, Boolean.toString(refresh));
        put(item, MIN_HEALTHY, Integer.toString(minHealthy));
        put(item, OVERRIDE_LIST, overrideList);
        put(item, TOKEN, AmiNames.token(runId, target.account(), target.region(), g.name()));
        put(item, CREATED, now.toString());
        put(item, STEP_AT, now.toString());
        return item;
    }

    /** A group the run selected but does not build (exempt, needs migration, unsupported): recorded, not waited for. */
    static Map<String, AttributeValue> report(
            String runId, AccountRegion target, String group, String state, String reason, Instant now) {
        Map<String, AttributeValue> item = Ledger.item(RunKeys.pk(runId), sk(target, group));
        put(item, ACCOUNT, target.account());
        put(item, REGION, target.region());
        put(item, GROUP, group);
        put(item, STATE, state);
        put(item, REASON, reason);
        put(item, CREATED, now.toString());
        put(item, FINISHED, now.toString());
        return item;
    }

    private static void put(Map<String, AttributeValue> item, String key, String value) {
        if (value != null && !value.isEmpty()) item.put(key, Ledger.s(value));
    }
}
