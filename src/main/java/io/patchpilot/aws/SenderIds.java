package io.patchpilot.aws;

import java.util.Map;

/** Who sent an SQS message: its {@code SenderId} system attribute, never a field of the body. */
public final class SenderIds {
    private SenderIds() {}

    /** The {@code SenderId} among the SQS system attributes a consumer received (keys as enums or strings). */
    public static String of(Map<?, ?> sqsAttributes) {
        if (sqsAttributes == null) return null;
        for (Map.Entry<?, ?> e : sqsAttributes.entrySet()) {
            if (String.valueOf(e.getKey()).equals("SenderId")) return String.valueOf(e.getValue());
        }
        return null;
    }
}
