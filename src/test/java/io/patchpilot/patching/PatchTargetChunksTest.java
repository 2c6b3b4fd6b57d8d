package io.patchpilot.patching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What a redelivered patch-target step sends: only instances no earlier delivery's command names,
 * even when discovery now finds more instances than the first delivery did (tagged meanwhile),
 * which shifted every chunk when redeliveries matched earlier commands by "i/N" comment alone.
 */
class PatchTargetChunksTest {
    private static List<String> ids(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "i-" + i).toList();
    }

    @Test
    void a_first_delivery_sends_every_instance_in_chunks_of_fifty() {
        assertEquals(
                List.of(ids(0, 50), ids(50, 100), ids(100, 120)), PatchTargetStep.unsentChunks(ids(0, 120), Set.of()));
    }

    @Test
    void a_redelivery_after_more_instances_were_tagged_sends_only_to_the_new_ones() {
        // the first delivery found 120 and sent 1/3 and 2/3 (i-0 … i-99) before its replica died; now 180 are tagged
        Set<String> sent = Set.copyOf(ids(0, 100));
        List<List<String>> chunks = PatchTargetStep.unsentChunks(ids(0, 180), sent);
        assertEquals(List.of(ids(100, 150), ids(150, 180)), chunks);
        List<String> all = new ArrayList<>(sent);
        chunks.forEach(all::addAll);
        assertEquals(180, Set.copyOf(all).size(), "each instance in exactly one command");
        assertEquals(180, all.size(), "each instance in exactly one command");
    }

    @Test
    void a_redelivery_after_every_command_was_sent_sends_nothing() {
        assertEquals(List.of(), PatchTargetStep.unsentChunks(ids(0, 120), Set.copyOf(ids(0, 120))));
    }
}
