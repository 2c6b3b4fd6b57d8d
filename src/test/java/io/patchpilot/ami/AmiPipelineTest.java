package io.patchpilot.ami;

import static io.patchpilot.ami.AmiPipeline.Step.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.ami.AmiPipeline.Kind;
import io.patchpilot.ami.AmiPipeline.Step;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class AmiPipelineTest {
    private static List<Step> path(Step from, boolean refresh) {
        List<Step> out = new ArrayList<>(List.of(from));
        for (Step s = from; !s.ended(); s = AmiPipeline.next(s, refresh)) out.add(AmiPipeline.next(s, refresh));
        return out;
    }

    @Test
    void a_requested_refresh_runs_every_build_step_in_order_and_ends_refreshed() {
        assertEquals(
                List.of(
                        RESOLVE,
                        LAUNCH,
                        WAIT_MANAGED,
                        INSTALL,
                        WAIT_INSTALL,
                        STOP,
                        WAIT_STOPPED,
                        IMAGE,
                        WAIT_IMAGE,
                        TERMINATE,
                        VERSION,
                        REFRESH,
                        WAIT_REFRESH,
                        SCAN,
                        WAIT_SCAN,
                        RETENTION,
                        PRUNE,
                        REFRESHED),
                path(RESOLVE, true));
    }

    @Test
    void without_a_refresh_the_new_version_is_published_and_nothing_is_scanned() {
        assertEquals(List.of(VERSION, PUBLISH, RETENTION, PRUNE, PUBLISHED), path(VERSION, false));
    }

    @Test
    void cleanup_undoes_in_reverse_order_of_creation_and_ends_failed() {
        assertEquals(
                List.of(
                        ROLLBACK_REFRESH,
                        WAIT_ROLLBACK,
                        RESTORE_GROUP,
                        DELETE_VERSION,
                        DELETE_IMAGE,
                        TERMINATE_BUILD,
                        FAILED),
                path(ROLLBACK_REFRESH, true));
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(RESOLVE, FAILED, "nothing created yet"),
                Arguments.of(LAUNCH, TERMINATE_BUILD, "the instance may exist though the call failed"),
                Arguments.of(WAIT_MANAGED, TERMINATE_BUILD, ""),
                Arguments.of(INSTALL, TERMINATE_BUILD, ""),
                Arguments.of(WAIT_INSTALL, TERMINATE_BUILD, ""),
                Arguments.of(STOP, TERMINATE_BUILD, ""),
                Arguments.of(WAIT_STOPPED, TERMINATE_BUILD, ""),
                Arguments.of(IMAGE, DELETE_IMAGE, "the image may exist though the call failed"),
                Arguments.of(WAIT_IMAGE, DELETE_IMAGE, ""),
                Arguments.of(TERMINATE, DELETE_IMAGE, ""),
                Arguments.of(VERSION, DELETE_VERSION, ""),
                Arguments.of(REFRESH, RESTORE_GROUP, ""),
                Arguments.of(PUBLISH, RESTORE_GROUP, ""),
                Arguments.of(WAIT_REFRESH, RESTORE_GROUP, "a failed refresh was rolled back by AWS"),
                Arguments.of(SCAN, RETENTION, "the group already runs the new version"),
                Arguments.of(WAIT_SCAN, RETENTION, ""),
                Arguments.of(RETENTION, REFRESHED, ""),
                Arguments.of(PRUNE, REFRESHED, ""),
                Arguments.of(DELETE_VERSION, DELETE_IMAGE, "a failing cleanup step is passed over"),
                Arguments.of(TERMINATE_BUILD, FAILED, ""));
    }

    @ParameterizedTest(name = "{0} fails -> {1} {2}")
    @MethodSource("failures")
    void a_failure_leads_to_the_first_cleanup_step_with_something_to_undo(Step failed, Step next, String why) {
        assertEquals(next, AmiPipeline.afterFailure(failed, true));
    }

    @Test
    void every_build_step_before_the_new_version_is_live_is_cleaned_up_down_to_the_temporary_instance() {
        for (Step s : path(RESOLVE, true)) {
            if (s.ended() || AmiPipeline.afterSuccess(s) || s == RESOLVE) continue;
            List<Step> cleanup = path(AmiPipeline.afterFailure(s, true), true);
            assertTrue(cleanup.contains(TERMINATE_BUILD), s + ": " + cleanup);
            assertEquals(FAILED, cleanup.get(cleanup.size() - 1));
        }
    }

    @Test
    void a_refresh_that_outlasts_its_wait_is_rolled_back_first_other_waits_just_fail() {
        assertEquals(ROLLBACK_REFRESH, AmiPipeline.afterTimeout(WAIT_REFRESH, true));
        assertEquals(TERMINATE_BUILD, AmiPipeline.afterTimeout(WAIT_MANAGED, true));
        assertEquals(PUBLISHED, AmiPipeline.afterFailure(PRUNE, false));
    }

    @Test
    void labels_are_unique_and_read_back() {
        Set<String> labels = new HashSet<>();
        for (Step s : Step.values()) {
            assertTrue(labels.add(s.label()), s.label());
            assertEquals(s, Step.of(s.label()));
        }
        assertEquals(
                EnumSet.of(REFRESHED, PUBLISHED, FAILED),
                EnumSet.copyOf(Stream.of(Step.values()).filter(Step::ended).toList()));
        assertFalse(
                Stream.of(Step.values()).filter(s -> s.kind() == Kind.CLEANUP).anyMatch(AmiPipeline::afterSuccess));
    }

    static Stream<Arguments> delays() {
        return Stream.of(
                Arguments.of(30, Duration.ZERO, 30),
                Arguments.of(30, Duration.ofMinutes(4), 30),
                Arguments.of(30, Duration.ofMinutes(10), 60),
                Arguments.of(30, Duration.ofHours(2), 300),
                Arguments.of(1, Duration.ofSeconds(5), 1));
    }

    @ParameterizedTest(name = "poll {0}s, waited {1} -> {2}s")
    @MethodSource("delays")
    void polls_back_off_to_a_tenth_of_the_wait_at_most_five_minutes(int poll, Duration waited, int expected) {
        assertEquals(expected, AmiPipeline.pollDelaySeconds(poll, waited));
    }

    @ParameterizedTest(name = "min {0} % -> max {1} %")
    @CsvSource({"10, 100", "90, 100", "99, 100", "100, 110"})
    void a_refresh_keeping_every_instance_healthy_may_launch_before_it_terminates(int min, int max) {
        assertEquals(max, AmiPipeline.maxHealthyPercentage(min));
    }
}
