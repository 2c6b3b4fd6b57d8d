package io.patchpilot.config;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The typed, validated view of {@link Settings}. Building it is the start-up check: the first
 * missing or invalid key stops start-up with one line naming it.
 */
public record PatchpilotConfig(
        String profile,
        Hub hub,
        Member member,
        Endpoints endpoints,
        Queues queues,
        String ledgerTable,
        Buckets buckets,
        String eventBus,
        List<String> regions,
        List<String> environments,
        Http http) {

    private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern EXTERNAL_ID = Pattern.compile("[\\w+=,.@:/-]{2,1224}");
    private static final Pattern RETRY_MODE = Pattern.compile("standard|adaptive");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,80}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** The hub (central) account and region; the account id may be discovered at start-up in AWS. */
    public record Hub(Optional<String> accountId, String region) {}

    /** How the hub reaches member accounts: one role per account, assumed with an ExternalId. */
    public record Member(String roleName, String externalId, int sessionDurationSeconds) {
        @Override
        public String toString() {
            return "Member[roleName=" + roleName + ", externalId=****, sessionDurationSeconds=" + sessionDurationSeconds
                    + "]";
        }
    }

    /** Endpoint overrides (local mode only); empty in AWS. */
    public record Endpoints(
            Optional<URI> aws, Optional<URI> sqs, int maxConnections, int maxAttempts, boolean adaptiveRetries) {}

    public record Queues(
            String configEvents,
            String schedules,
            String selfService,
            String emergency,
            String approvals,
            String work,
            int maxReceiveCount) {
        public List<String> all() {
            return List.of(configEvents, schedules, selfService, emergency, approvals, work);
        }

        public static String deadLetterQueueOf(String queue) {
            return queue + "-dlq";
        }
    }

    public record Buckets(String inventory, String reports, String logs, String athenaResults) {
        public List<String> all() {
            return List.of(inventory, reports, logs, athenaResults);
        }
    }

    public record Http(String host, int port) {}

    public static PatchpilotConfig from(Settings s) {
        Hub hub = new Hub(
                s.optional("patchpilot.hub.account-id")
                        .map(v -> s.require("patchpilot.hub.account-id", ACCOUNT_ID, "a 12-digit account id")),
                s.require("patchpilot.hub.region", REGION, "an AWS region name such as us-east-1"));
        Member member = new Member(
                s.require("patchpilot.member.role-name", ROLE_NAME, "an IAM role name"),
                s.require("patchpilot.member.external-id", EXTERNAL_ID, "2-1224 characters of [\\w+=,.@:/-]"),
                s.intOr("patchpilot.member.session-duration-seconds", 3600, 900, 43200));
        Endpoints endpoints = new Endpoints(
                uri(s, "patchpilot.aws.endpoint"),
                uri(s, "patchpilot.aws.sqs-endpoint"),
                s.intOr("patchpilot.aws.max-connections", 200, 1, 5000),
                s.intOr("patchpilot.aws.max-attempts", 6, 1, 20),
                s.optional("patchpilot.aws.retry-mode")
                        .map(m -> s.require("patchpilot.aws.retry-mode", RETRY_MODE, "standard or adaptive"))
                        .orElse("standard")
                        .equals("adaptive"));
        Queues queues = new Queues(
                queue(s, "config-events"),
                queue(s, "schedules"),
                queue(s, "self-service"),
                queue(s, "emergency"),
                queue(s, "approvals"),
                queue(s, "work"),
                s.intOr("patchpilot.queue.max-receive-count", 5, 1, 1000));
        Buckets buckets = new Buckets(
                bucket(s, "inventory"), bucket(s, "reports"), bucket(s, "logs"), bucket(s, "athena-results"));
        List<String> regions = s.requireList("patchpilot.regions");
        for (String r : regions) {
            if (!REGION.matcher(r).matches())
                throw new ConfigException("patchpilot.regions: '" + r + "' is not an AWS region name");
        }
        List<String> environments = s.requireList("patchpilot.environments");
        for (String e : environments) {
            if (!e.matches("[A-Za-z][A-Za-z0-9]{0,31}")) {
                throw new ConfigException(
                        "patchpilot.environments: '" + e + "' must be a letter followed by up to 31 letters or digits");
            }
            if (e.equalsIgnoreCase("All") || e.equalsIgnoreCase("Default")) {
                throw new ConfigException("patchpilot.environments: '" + e + "' is reserved");
            }
        }
        Http http = new Http(s.require("patchpilot.http.host"), s.requireInt("patchpilot.http.port", 1, 65535));
        return new PatchpilotConfig(
                s.profile(),
                hub,
                member,
                endpoints,
                queues,
                s.require("patchpilot.table.ledger", NAME, "a table name of 1-80 letters, digits, '.', '_' or '-'"),
                buckets,
                s.require("patchpilot.event-bus", NAME, "an event bus name"),
                regions,
                environments,
                http);
    }

    public boolean local() {
        return endpoints.aws().isPresent();
    }

    private static String queue(Settings s, String name) {
        return s.require("patchpilot.queue." + name, NAME, "a queue name of 1-80 letters, digits, '_' or '-'");
    }

    private static String bucket(Settings s, String name) {
        return s.require("patchpilot.bucket." + name, BUCKET, "a valid S3 bucket name");
    }

    private static Optional<URI> uri(Settings s, String key) {
        return s.optional(key).map(v -> {
            try {
                URI u = URI.create(v);
                if (u.getScheme() == null || u.getHost() == null) throw new IllegalArgumentException();
                return u;
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + ": '" + v + "' is not a URL such as http://127.0.0.1:4566");
            }
        });
    }
}
