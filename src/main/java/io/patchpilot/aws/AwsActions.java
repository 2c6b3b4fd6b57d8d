package io.patchpilot.aws;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The IAM actions a method performs, declared beside the call (cloud-custodian's
 * {@code permissions}). {@link DeclaredAwsActions} collects them so a test can compare the set
 * with the policies in {@code deploy/}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface AwsActions {
    /** Actions as IAM spells them, e.g. {@code ec2:CreateTags}. */
    String[] value();

    /** Where the action runs: the hub account's own role, or the assumed member role. */
    Principal principal() default Principal.MEMBER;

    enum Principal {
        HUB,
        MEMBER
    }
}
