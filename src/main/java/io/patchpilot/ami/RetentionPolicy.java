package io.patchpilot.ami;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Which of a group's patched images to remove: the newest {@code keep} stay, older ones go —
 * except any image a launch template version in use still references (the group's version, the
 * template's default and latest), which stays whatever its age.
 */
public final class RetentionPolicy {
    private RetentionPolicy() {}

    public record Image(String id, Instant created) {}

    /** The image ids to deregister, oldest first. */
    public static List<String> toDeregister(List<Image> images, Set<String> inUse, int keep) {
        List<Image> newestFirst = new ArrayList<>(images);
        newestFirst.sort(
                Comparator.comparing(Image::created).thenComparing(Image::id).reversed());
        List<String> out = new ArrayList<>();
        for (int i = newestFirst.size() - 1; i >= keep; i--) {
            Image old = newestFirst.get(i);
            if (!inUse.contains(old.id())) out.add(old.id());
        }
        return out;
    }
}
