package io.patchpilot.local;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchpilot.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The organization local mode creates ({@code config/local/fleet.yaml}): member accounts, and per
 * account and region the instances and AutoScaling groups, with the facts only a simulator can
 * know (missing patches, SSM agent, failing patch runs). Unknown keys and bad values are errors
 * naming the file, line and key.
 */
public record FleetFile(List<Account> accounts) {

    public enum Platform {
        Linux,
        Windows
    }

    public enum State {
        running,
        stopped
    }

    public record Account(
            String id, String name, String email, List<String> disabledRegions, Map<String, RegionFleet> regions) {
        public Account {
            require(
                    id != null && id.matches("\\d{12}"),
                    "id",
                    "must be a 12-digit account id in quotes, e.g. \"111111111111\"");
            require(
                    !id.equals(LocalAws.HUB_ACCOUNT),
                    "id",
                    "is the hub account " + LocalAws.HUB_ACCOUNT + "; member accounts need other ids");
            require(
                    name != null && name.matches("[A-Za-z0-9 ._-]{1,50}"),
                    "name",
                    "must be 1-50 letters, digits, spaces, '.', '_' or '-'");
            email = email == null ? name.replaceAll("[^A-Za-z0-9]", "-").toLowerCase() + "@example.com" : email;
            disabledRegions = disabledRegions == null ? List.of() : List.copyOf(disabledRegions);
            regions = regions == null ? Map.of() : new LinkedHashMap<>(regions);
            for (String r : regions.keySet())
                require(r.matches("[a-z]{2}-[a-z]+-\\d"), "regions", "'" + r + "' is not a region name");
        }
    }

    public record RegionFleet(List<Instance> instances, List<Group> autoScalingGroups, List<SeedWindow> seedWindows) {
        public RegionFleet {
            instances = instances == null ? List.of() : List.copyOf(instances);
            autoScalingGroups = autoScalingGroups == null ? List.of() : List.copyOf(autoScalingGroups);
            seedWindows = seedWindows == null ? List.of() : List.copyOf(seedWindows);
        }
    }

    /**
     * A maintenance window as the AWS sample's window product left it in the account-region (to
     * try {@code patchpilot migrate seed} locally): SSM window {@code <environment>_maintenance_window}
     * with the schedule, StartDate, duration and cutoff given, a Lambda task whose payload carries
     * the patching parameters, and an ASG task when {@code includeAsg} is Yes. Values are written as
     * the sample wrote them, unchecked: migration decides what it can map.
     */
    public record SeedWindow(
            String environment,
            String schedule,
            String startDate,
            Integer duration,
            Integer cutoff,
            String patchingOperation,
            String operationPostPatching,
            String includeAsg,
            String retainHealthyPercentage,
            String refreshAsgInstances) {
        public SeedWindow {
            require(
                    environment != null && environment.matches("[A-Za-z0-9]{1,50}"),
                    "environment",
                    "must be 1-50 letters or digits, e.g. Dev");
            require(schedule != null && !schedule.isBlank(), "schedule", "is required, e.g. rate(7 days)");
            duration = duration == null ? 4 : duration;
            cutoff = cutoff == null ? 1 : cutoff;
            patchingOperation = patchingOperation == null ? "Install" : patchingOperation;
            operationPostPatching = operationPostPatching == null ? "RebootIfNeeded" : operationPostPatching;
            includeAsg = includeAsg == null ? "No" : includeAsg;
            retainHealthyPercentage = retainHealthyPercentage == null ? "10" : retainHealthyPercentage;
            refreshAsgInstances = refreshAsgInstances == null ? "Yes" : refreshAsgInstances;
        }

        public String name() {
            return environment + "_maintenance_window";
        }
    }

    public record Instance(
            String name,
            Platform platform,
            State state,
            String ami,
            String instanceType,
            Boolean ssmManaged,
            Boolean failPatching,
            Integer count,
            Map<String, String> tags,
            List<Patch> missingPatches) {
        public Instance {
            require(name != null && !name.isBlank(), "name", "is required");
            platform = platform == null ? Platform.Linux : platform;
            state = state == null ? State.running : state;
            instanceType = instanceType == null ? "t3.micro" : instanceType;
            ssmManaged = ssmManaged == null || ssmManaged;
            failPatching = failPatching != null && failPatching;
            count = count == null ? 1 : count;
            require(count >= 1 && count <= 10_000, "count", "must be 1..10000");
            tags = tags == null ? Map.of() : new LinkedHashMap<>(tags);
            missingPatches = missingPatches == null ? List.of() : List.copyOf(missingPatches);
        }
    }

    public record Patch(
            String id,
            String title,
            String classification,
            String severity,
            LocalDate releaseDate,
            Boolean rebootRequired) {
        public Patch {
            require(id != null && !id.isBlank(), "id", "is required");
            title = title == null ? id : title;
            classification = classification == null ? "Security" : classification;
            severity = severity == null ? "Important" : severity;
            require(
                    Set.of("Critical", "Important", "Medium", "Low", "Unspecified")
                            .contains(severity),
                    "severity",
                    "must be one of Critical, Important, Medium, Low, Unspecified");
            releaseDate = releaseDate == null ? LocalDate.of(2026, 10, 1) : releaseDate;
            rebootRequired = rebootRequired != null && rebootRequired;
        }
    }

    public record Group(
            String name,
            String ami,
            String instanceType,
            @JsonProperty("min") Integer min,
            @JsonProperty("max") Integer max,
            Integer desired,
            Boolean mixedInstances,
            Boolean refreshFails,
            Map<String, String> tags) {
        public Group {
            require(
                    name != null && name.matches("[A-Za-z0-9._-]{1,100}"),
                    "name",
                    "must be 1-100 letters, digits, '.', '_' or '-'");
            instanceType = instanceType == null ? "t3.micro" : instanceType;
            desired = desired == null ? 2 : desired;
            min = min == null ? Math.min(1, desired) : min;
            max = max == null ? Math.max(desired, 1) * 2 : max;
            require(min >= 0 && min <= desired && desired <= max, "desired", "needs 0 <= min <= desired <= max");
            mixedInstances = mixedInstances != null && mixedInstances;
            refreshFails = refreshFails != null && refreshFails;
            tags = tags == null ? Map.of() : new LinkedHashMap<>(tags);
        }
    }

    public FleetFile {
        accounts = accounts == null ? List.of() : List.copyOf(accounts);
        require(!accounts.isEmpty(), "accounts", "must list at least one member account");
        Set<String> ids = new HashSet<>();
        for (Account a : accounts) require(ids.add(a.id()), "accounts", "account " + a.id() + " is listed twice");
    }

    /** Every region any account has resources in, in file order. */
    public Collection<String> regions() {
        return accounts.stream()
                .flatMap(a -> a.regions().keySet().stream())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static void require(boolean ok, String key, String message) {
        if (!ok) throw new IllegalArgumentException(key + " " + message);
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .findAndRegisterModules()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    public static FleetFile read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": fleet file not found");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read: " + e.getMessage());
        }
        try {
            FleetFile fleet = YAML.readValue(text, FleetFile.class);
            if (fleet == null) throw new ConfigException(file + ": is empty; it must list accounts");
            return fleet;
        } catch (UnrecognizedPropertyException e) {
            List<String> known = new ArrayList<>();
            if (e.getKnownPropertyIds() != null) e.getKnownPropertyIds().forEach(k -> known.add(k.toString()));
            known.sort(null);
            throw new ConfigException(
                    where(file, text, e.getLocation(), e.getPropertyName()) + ": unknown key '" + e.getPropertyName()
                            + "' in " + path(e.getPath().subList(0, e.getPath().size() - 1)) + " (known keys: "
                            + String.join(", ", known) + ")");
        } catch (JsonMappingException e) {
            String message = cause(e);
            String key = e.getPath().isEmpty()
                    ? null
                    : e.getPath().get(e.getPath().size() - 1).getFieldName();
            if (rootCause(e) instanceof IllegalArgumentException) key = message.split(" ", 2)[0];
            throw new ConfigException(
                    where(file, text, e.getLocation(), key) + ": " + path(e.getPath()) + ": " + message);
        } catch (JsonProcessingException e) {
            throw new ConfigException(where(file, text, e.getLocation(), null) + ": not valid YAML: "
                    + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    /**
     * file:line of a problem. Jackson reports where the parser stood (often the line after the
     * key, or the end of the mapping); look back from there for the line that holds the key.
     */
    private static String where(Path file, String text, JsonLocation loc, String key) {
        if (loc == null || loc.getLineNr() < 1) return file.toString();
        int line = loc.getLineNr();
        if (key != null) {
            String[] lines = text.split("\n", -1);
            Pattern keyLine = Pattern.compile("^[\\s-]*(\\{\\s*)?[\"']?" + Pattern.quote(key)
                    + "[\"']?\\s*:.*|.*[{,]\\s*[\"']?" + Pattern.quote(key) + "[\"']?\\s*:.*");
            for (int i = Math.min(line, lines.length) - 1; i >= 0; i--) {
                if (keyLine.matcher(lines[i]).matches()) return file + ":" + (i + 1);
            }
        }
        return file + ":" + line;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root;
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "(top level)" : sb.toString();
    }

    private static String cause(JsonMappingException e) {
        Throwable root = rootCause(e);
        if (root instanceof IllegalArgumentException) return root.getMessage();
        if (e instanceof InvalidFormatException f) {
            String allowed = f.getTargetType() != null && f.getTargetType().isEnum()
                    ? " (allowed: "
                            + Arrays.stream(f.getTargetType().getEnumConstants())
                                    .map(Object::toString)
                                    .collect(Collectors.joining(", "))
                            + ")"
                    : "";
            return "'" + f.getValue() + "' is not a valid " + f.getTargetType().getSimpleName() + allowed;
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "expected " + describe(m.getTargetType());
        }
        return e.getOriginalMessage().lines().findFirst().orElse("invalid value");
    }

    private static String describe(Class<?> type) {
        if (List.class.isAssignableFrom(type)) return "a list";
        if (Map.class.isAssignableFrom(type) || type.isRecord()) return "a mapping of keys to values";
        if (type == String.class) return "a text value";
        if (type == Integer.class || type == int.class) return "a whole number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        return "a " + type.getSimpleName();
    }
}
