package io.patchpilot.tagging;

/** The two resource types patchpilot tags (AWS Config's names). */
public enum ResourceKind {
    INSTANCE("AWS::EC2::Instance"),
    AUTO_SCALING_GROUP("AWS::AutoScaling::AutoScalingGroup");

    private final String configType;

    ResourceKind(String configType) {
        this.configType = configType;
    }

    public String configType() {
        return configType;
    }

    public static ResourceKind fromConfigType(String type) {
        for (ResourceKind k : values()) if (k.configType.equals(type)) return k;
        return null;
    }
}
