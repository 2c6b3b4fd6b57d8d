package io.patchpilot.ami;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic names of what one group's build creates, so a redelivered step or a restart finds
 * the resource it would create instead of making a second one: the client token of the temporary
 * instance (also its {@value #BUILD_TAG} tag), the image name, the command comments.
 */
public final class AmiNames {
    /** On the temporary instance: the build's token (cleanup finds leftover instances by it). */
    public static final String BUILD_TAG = "patchpilot:ami-build";
    /** On patched images and their snapshots: the group they were built for (retention lists by it). */
    public static final String GROUP_TAG = "patchpilot:group";

    public static final String RUN_TAG = "patchpilot:run";
    public static final String SOURCE_TAG = "patchpilot:source-ami";
    /** Command comments of the pipeline start with this (not "patchpilot <run>", the instance patching's). */
    public static final String COMMENT_PREFIX = "patchpilot-ami ";

    private static final int MAX_IMAGE_NAME = 128;

    private AmiNames() {}

    /** ≤ 64 ASCII characters (RunInstances and CreateLaunchTemplateVersion client tokens), one per run × group. */
    public static String token(String runId, String account, String region, String group) {
        return "pp-"
                + sha256(runId + "|" + account + "|" + region + "|" + group).substring(0, 40);
    }

    /**
     * {@code patchpilot-<group>-<run>}, with characters AMI names do not allow replaced by '-' and,
     * when longer than 128, shortened with a hash that keeps it unique.
     */
    public static String imageName(String group, String runId) {
        String name = clean("patchpilot-" + group + "-" + runId);
        if (name.length() <= MAX_IMAGE_NAME) return name;
        return name.substring(0, MAX_IMAGE_NAME - 13) + "-" + sha256(name).substring(0, 12);
    }

    /** A Run Command comment (≤ 100 characters) naming the build and what the command does. */
    public static String comment(String token, String what) {
        return COMMENT_PREFIX + token + " " + what;
    }

    /** AMI names allow letters, digits, ( ) [ ] space . / - ' @ _ */
    static String clean(String s) {
        return s.replaceAll("[^A-Za-z0-9()\\[\\] ./'@_-]", "-");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
