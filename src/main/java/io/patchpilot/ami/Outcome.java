package io.patchpilot.ami;

import java.util.LinkedHashMap;
import java.util.Map;

/** What performing one step of a build came to; {@link AmiRefreshStep} records it and continues. */
sealed interface Outcome {
    /** The step's action is done; facts (what it created or learned) are recorded with the next step. */
    record Done(Map<String, String> facts) implements Outcome {}

    /** Done part of the work (one old image of several removed): the same step again, at once. */
    record Again(Map<String, String> facts) implements Outcome {}

    /** AWS is not ready yet: poll again later (until the step's wait limit). */
    record Wait(String note, Map<String, String> facts) implements Outcome {
        Wait(String note) {
            this(note, Map.of());
        }
    }

    /** A failure retrying cannot fix: the build is cleaned up with this reason. */
    record Failed(String reason) implements Outcome {}

    static Done done(String... keyValues) {
        return new Done(facts(keyValues));
    }

    static Map<String, String> facts(String... keyValues) {
        Map<String, String> facts = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] != null) facts.put(keyValues[i], keyValues[i + 1]);
        }
        return facts;
    }
}
