package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AmiNamesTest {
    @Test
    void the_client_token_is_the_same_for_a_build_and_differs_between_builds() {
        String t = AmiNames.token("Default-20261204T0500Z", "111111111111", "us-east-1", "web");
        assertEquals(t, AmiNames.token("Default-20261204T0500Z", "111111111111", "us-east-1", "web"));
        assertNotEquals(t, AmiNames.token("Default-20261211T0500Z", "111111111111", "us-east-1", "web"));
        assertNotEquals(t, AmiNames.token("Default-20261204T0500Z", "111111111111", "eu-west-1", "web"));
        assertTrue(t.length() <= 64 && t.matches("pp-[0-9a-f]{40}"), t);
        assertTrue(AmiNames.comment(t, "install").length() <= 100);
    }

    static Stream<Arguments> names() {
        return Stream.of(
                Arguments.of("web-asg", "Default-20261204T0500Z", "patchpilot-web-asg-Default-20261204T0500Z"),
                Arguments.of("web:asg#1", "chg 4711", "patchpilot-web-asg-1-chg 4711"),
                Arguments.of("ünïcode", "run", "patchpilot--n-code-run"));
    }

    @ParameterizedTest(name = "{0} / {1}")
    @MethodSource("names")
    void image_names_keep_only_what_ami_names_allow(String group, String run, String expected) {
        assertEquals(expected, AmiNames.imageName(group, run));
    }

    @Test
    void long_image_names_are_shortened_with_a_hash_and_stay_unique() {
        String a = AmiNames.imageName("g".repeat(200), "run-a");
        String b = AmiNames.imageName("g".repeat(200), "run-b");
        assertEquals(128, a.length());
        assertNotEquals(a, b);
    }
}
