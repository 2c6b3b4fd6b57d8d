package io.patchpilot.tagging;

import java.util.Map;

/** What the tag policy decided for one resource. */
public sealed interface TagDecision {
    /** Tags to write (only those that differ from the current ones; empty when all are right). */
    record Apply(String environment, String window, Map<String, String> tagsToWrite) implements TagDecision {
        public Apply {
            tagsToWrite = Map.copyOf(tagsToWrite);
        }

        public boolean changesNothing() {
            return tagsToWrite.isEmpty();
        }
    }

    /** Not patchpilot's to tag, and why. */
    record Exempt(String reason) implements TagDecision {}
}
