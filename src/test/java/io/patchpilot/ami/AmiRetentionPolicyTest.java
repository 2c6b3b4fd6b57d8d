package io.patchpilot.ami;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchpilot.ami.RetentionPolicy.Image;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AmiRetentionPolicyTest {
    private static Image image(String id, int day) {
        return new Image(id, Instant.parse("2026-11-01T05:00:00Z").plusSeconds(86_400L * day));
    }

    private static final List<Image> FIVE =
            List.of(image("ami-3", 3), image("ami-1", 1), image("ami-5", 5), image("ami-2", 2), image("ami-4", 4));

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "nothing to remove", List.of(image("ami-1", 1), image("ami-2", 2)), Set.of(), 3, List.of()),
                Arguments.of("exactly N", FIVE.subList(0, 3), Set.of(), 3, List.of()),
                Arguments.of("the oldest beyond N, oldest first", FIVE, Set.of(), 3, List.of("ami-1", "ami-2")),
                Arguments.of("keep 1", FIVE, Set.of(), 1, List.of("ami-1", "ami-2", "ami-3", "ami-4")),
                Arguments.of(
                        "an old image a version in use references stays", FIVE, Set.of("ami-1"), 3, List.of("ami-2")),
                Arguments.of(
                        "in use among the newest changes nothing", FIVE, Set.of("ami-5"), 3, List.of("ami-1", "ami-2")),
                Arguments.of(
                        "same creation time: by id",
                        List.of(image("ami-b", 1), image("ami-a", 1), image("ami-c", 1)),
                        Set.of(),
                        2,
                        List.of("ami-a")),
                Arguments.of("no images", List.of(), Set.of("ami-1"), 3, List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void keeps_the_newest_n_and_every_image_in_use(
            String name, List<Image> images, Set<String> inUse, int keep, List<String> removed) {
        assertEquals(removed, RetentionPolicy.toDeregister(images, inUse, keep));
    }
}
