package io.patchpilot.doctor;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.aws.Organization;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.config.Settings;
import io.patchpilot.ledger.Ledger;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackInstanceSummary;
import software.amazon.awssdk.services.config.ConfigClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.DescribeRuleResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Is the deployment whole? One check per piece a multi-account deployment needs, each passing or
 * failing with the fix: credentials and the hub account, the hub stack and its outputs, queues and
 * their dead letters, and in every ACTIVE member account × region its stack instance, the execution
 * role (assumed with the ExternalId), the Config rule and the forwarding rule, proven by a test event
 * that travels member bus → hub bus → patchpilot-schedules → the service → the ledger. Read-only but
 * for that test event.
 */
public final class Doctor {
    /** The source and detail type of the test event; the templates' rules forward and route it. */
    public static final String PING_SOURCE = "patchpilot.doctor";

    public static final String PING_DETAIL_TYPE = "Doctor Ping";
    public static final String FORWARD_RULE = "patchpilot-forward-to-hub";

    public enum Result {
        PASS,
        FAIL,
        SKIP
    }

    public record Check(Result result, String what, String detail, String fix) {
        public String line() {
            String mark = switch (result) {
                case PASS -> "✓";
                case FAIL -> "✗";
                case SKIP -> "–";
            };
            return mark + " " + what + (detail.isEmpty() ? "" : ": " + detail)
                    + (result == Result.FAIL && !fix.isEmpty() ? "  → " + fix : "");
        }
    }

    private final AwsClients aws;
    private final PatchpilotConfig config;
    private final Settings settings;
    private final Ledger ledger;
    private final Duration pingTimeout;
    private final Consumer<Check> out;

    public Doctor(
            AwsClients aws, PatchpilotConfig config, Settings settings, Duration pingTimeout, Consumer<Check> out) {
        this.aws = aws;
        this.config = config;
        this.settings = settings;
        this.ledger = new Ledger(aws, config.ledgerTable());
        this.pingTimeout = pingTimeout;
        this.out = out;
    }

    /** Runs every check, reporting each as it ends; answers them all. */
    public List<Check> run() {
        List<Check> all = new ArrayList<>();
        Consumer<Check> report = c -> {
            all.add(c);
            out.accept(c);
        };
        String account = credentials(report);
        if (account == null) return all;
        Map<String, String> outputs = hubStack(report);
        queues(report);
        List<AccountRegion> targets = members(report);
        Map<String, String> instances = stackInstances(report);
        List<String> pings = new ArrayList<>();
        for (AccountRegion t : targets) {
            if (instances != null) {
                String status = instances.get(t.account() + "/" + t.region());
                report.accept(
                        "CURRENT".equals(status)
                                ? pass(t + " stack instance", status)
                                : fail(
                                        t + " stack instance",
                                        status == null ? "none" : status,
                                        "add a stack instance of " + memberStackSet()
                                                + " for this account and region"));
            }
            if (!role(t, report)) continue;
            configRule(t, report);
            String nonce = forwarding(t, outputs, report);
            if (nonce != null) pings.add(t + " " + nonce);
        }
        awaitPings(pings, report);
        mail(report);
        slack(report);
        return all;
    }

    private String hubStackName() {
        return settings.optional("patchpilot.deploy.hub-stack").orElse("patchpilot-hub");
    }

    private String memberStackSet() {
        return settings.optional("patchpilot.deploy.member-stack-set").orElse("patchpilot-member");
    }

    @AwsActions(value = "sts:GetCallerIdentity", principal = AwsActions.Principal.HUB)
    private String credentials(Consumer<Check> report) {
        try {
            String account = aws.hub(StsClient.class).getCallerIdentity().account();
            Optional<String> hub = config.hub().accountId();
            if (hub.isPresent() && !hub.get().equals(account)) {
                report.accept(fail(
                        "credentials",
                        "they act in " + account + ", the hub is " + hub.get(),
                        "use credentials of the hub account (AWS_PROFILE, or the task role)"));
                return null;
            }
            report.accept(pass(
                    "credentials",
                    "hub account " + account + ", region " + config.hub().region()));
            return account;
        } catch (SdkException e) {
            report.accept(fail("credentials", oneLine(e), "configure AWS credentials for the hub account"));
            return null;
        }
    }

    private Map<String, String> hubStack(Consumer<Check> report) {
        String name = hubStackName();
        try {
            Stack stack = aws.hub(CloudFormationClient.class)
                    .describeStacks(r -> r.stackName(name))
                    .stacks()
                    .get(0);
            Map<String, String> outputs = new HashMap<>();
            stack.outputs().forEach(o -> outputs.put(o.outputKey(), o.outputValue()));
            String status = stack.stackStatusAsString();
            if (!status.endsWith("_COMPLETE") || status.contains("ROLLBACK") || status.startsWith("DELETE")) {
                report.accept(fail(
                        "hub stack " + name,
                        status,
                        "see its events: aws cloudformation describe-stack-events --stack-name " + name));
                return outputs;
            }
            List<String> differ = new ArrayList<>();
            compare(
                    outputs,
                    "InventoryBucketName",
                    config.buckets().inventory(),
                    "patchpilot.bucket.inventory",
                    differ);
            compare(outputs, "ReportsBucketName", config.buckets().reports(), "patchpilot.bucket.reports", differ);
            compare(outputs, "PatchLogsBucketName", config.buckets().logs(), "patchpilot.bucket.logs", differ);
            compare(
                    outputs,
                    "AthenaResultsBucketName",
                    config.buckets().athenaResults(),
                    "patchpilot.bucket.athena-results",
                    differ);
            report.accept(
                    differ.isEmpty()
                            ? pass(
                                    "hub stack " + name,
                                    status + ", " + outputs.size() + " outputs, buckets as configured")
                            : fail(
                                    "hub stack " + name,
                                    String.join("; ", differ),
                                    "set those settings to the stack's outputs"));
            return outputs;
        } catch (SdkException e) {
            report.accept(fail(
                    "hub stack " + name,
                    oneLine(e),
                    "deploy deploy/cloudformation/hub.yaml (deploy/README.md), or set patchpilot.deploy.hub-stack"));
            return Map.of();
        }
    }

    private static void compare(
            Map<String, String> outputs, String key, String configured, String setting, List<String> differ) {
        String out = outputs.get(key);
        if (out != null && !out.equals(configured))
            differ.add(setting + "=" + configured + " but output " + key + "=" + out);
    }

    @AwsActions(
            value = {"sqs:GetQueueUrl", "sqs:GetQueueAttributes"},
            principal = AwsActions.Principal.HUB)
    private void queues(Consumer<Check> report) {
        SqsClient sqs = aws.hub(SqsClient.class);
        for (String queue : config.queues().all()) {
            String dlq = PatchpilotConfig.Queues.deadLetterQueueOf(queue);
            try {
                String url = sqs.getQueueUrl(r -> r.queueName(queue)).queueUrl();
                String dlqUrl = sqs.getQueueUrl(r -> r.queueName(dlq)).queueUrl();
                String depth = attribute(sqs, url);
                String dead = attribute(sqs, dlqUrl);
                report.accept(
                        "0".equals(dead)
                                ? pass("queue " + queue, depth + " waiting, dead letters 0")
                                : fail(
                                        "queue " + queue,
                                        depth + " waiting, dead letters " + dead,
                                        "patchpilot dlq list " + queue.replaceFirst("^patchpilot-", "")
                                                + ", then redrive or purge"));
            } catch (SdkException e) {
                report.accept(fail(
                        "queue " + queue,
                        oneLine(e),
                        "the hub stack makes it: is it deployed in "
                                + config.hub().region() + "?"));
            }
        }
    }

    private static String attribute(SqsClient sqs, String url) {
        return sqs.getQueueAttributes(
                        r -> r.queueUrl(url).attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                .attributes()
                .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES);
    }

    private List<AccountRegion> members(Consumer<Check> report) {
        List<AccountRegion> out = new ArrayList<>();
        try {
            String hub = aws.hubAccountId();
            List<String> accounts = new Organization(aws, Clock.systemUTC())
                    .activeAccounts().stream()
                            .filter(a -> !a.equals(hub))
                            .sorted()
                            .toList();
            for (String a : accounts) for (String r : config.regions()) out.add(new AccountRegion(a, r));
            report.accept(pass(
                    "organization",
                    accounts.size() + " ACTIVE member accounts × "
                            + config.regions().size() + " regions"));
        } catch (SdkException e) {
            report.accept(fail(
                    "organization",
                    oneLine(e),
                    "the hub needs organizations:ListAccounts (the management account or a delegated administrator)"));
        }
        return out;
    }

    /** account/region → status, or null when the StackSet is not visible from here (say so once). */
    private Map<String, String> stackInstances(Consumer<Check> report) {
        String name = memberStackSet();
        try {
            Map<String, String> out = new HashMap<>();
            for (StackInstanceSummary s : aws.hub(CloudFormationClient.class)
                    .listStackInstancesPaginator(r -> r.stackSetName(name))
                    .summaries()) out.put(s.account() + "/" + s.region(), s.statusAsString());
            return out;
        } catch (SdkException e) {
            report.accept(skip(
                    "member StackSet " + name,
                    "not visible from this account (" + oneLine(e)
                            + "); its instances are checked by what they make, below"));
            return null;
        }
    }

    private boolean role(AccountRegion t, Consumer<Check> report) {
        try {
            String arn =
                    aws.member(StsClient.class, t, "doctor").getCallerIdentity().arn();
            report.accept(pass(t + " execution role", arn));
            return true;
        } catch (SdkException e) {
            report.accept(fail(
                    t + " execution role",
                    oneLine(e),
                    "the member StackSet makes " + aws.memberRoleArn(t.account())
                            + " trusting the hub's task role with patchpilot.member.external-id"));
            return false;
        }
    }

    @AwsActions("config:DescribeConfigRules")
    private void configRule(AccountRegion t, Consumer<Check> report) {
        List<String> names = settings.requireList("patchpilot.tagging.config-rule-names");
        try {
            List<String> found = aws
                    .member(ConfigClient.class, t, "doctor")
                    .describeConfigRules(r -> r.configRuleNames(names))
                    .configRules()
                    .stream()
                    .map(r -> r.configRuleName())
                    .toList();
            report.accept(
                    found.containsAll(names)
                            ? pass(t + " Config rule", String.join(", ", found))
                            : fail(
                                    t + " Config rule",
                                    "missing " + names,
                                    "the member StackSet makes it: update its stack instance here"));
        } catch (SdkException e) {
            report.accept(fail(
                    t + " Config rule",
                    oneLine(e),
                    "the member StackSet makes " + names + ": update its stack instance here"));
        }
    }

    /** Checks the forwarding rule and puts the test event; answers its nonce, or null. */
    @AwsActions({"events:DescribeRule", "events:PutEvents"})
    private String forwarding(AccountRegion t, Map<String, String> outputs, Consumer<Check> report) {
        EventBridgeClient events = aws.member(EventBridgeClient.class, t, "doctor");
        try {
            DescribeRuleResponse rule = events.describeRule(r -> r.name(FORWARD_RULE));
            if (!"ENABLED".equals(rule.stateAsString())) {
                report.accept(fail(
                        t + " forwarding rule",
                        FORWARD_RULE + " is " + rule.stateAsString(),
                        "enable it (aws events enable-rule --name " + FORWARD_RULE + ")"));
                return null;
            }
        } catch (SdkException e) {
            report.accept(fail(
                    t + " forwarding rule",
                    oneLine(e),
                    "the member StackSet makes " + FORWARD_RULE + ": update its stack instance here"));
            return null;
        }
        String nonce = UUID.randomUUID().toString();
        try {
            PutEventsResponse put = events.putEvents(r -> r.entries(PutEventsRequestEntry.builder()
                    .source(PING_SOURCE)
                    .detailType(PING_DETAIL_TYPE)
                    .detail("{\"nonce\":\"" + nonce + "\",\"account\":\"" + t.account() + "\",\"region\":\""
                            + t.region() + "\"}")
                    .build()));
            if (put.failedEntryCount() > 0) {
                report.accept(fail(
                        t + " forwarding rule",
                        "test event refused: " + put.entries().get(0).errorMessage(),
                        ""));
                return null;
            }
            return nonce;
        } catch (SdkException e) {
            report.accept(fail(
                    t + " forwarding rule",
                    "cannot put the test event: " + oneLine(e),
                    "the execution role needs events:PutEvents on its default bus"));
            return null;
        }
    }

    /** Waits for every test event to reach the service (it records each in the ledger). */
    private void awaitPings(List<String> pings, Consumer<Check> report) {
        Instant deadline = Instant.now().plus(pingTimeout);
        List<String> waiting = new ArrayList<>(pings);
        while (!waiting.isEmpty() && Instant.now().isBefore(deadline)) {
            waiting.removeIf(p -> {
                String[] parts = p.split(" ");
                if (ledger.get(DoctorPings.PK, DoctorPings.SK_PREFIX + parts[1]).isEmpty()) return false;
                report.accept(
                        pass(parts[0] + " forwarding rule", "test event reached the service through the hub bus"));
                return true;
            });
            if (!waiting.isEmpty()) sleep();
        }
        for (String p : waiting) {
            report.accept(
                    fail(
                            p.split(" ")[0] + " forwarding rule",
                            "the test event did not reach the service within " + pingTimeout.toSeconds() + " s",
                            "check the hub bus policy (aws:PrincipalOrgID), the hub rule patchpilot-doctor and that the service runs"));
        }
    }

    private void mail(Consumer<Check> report) {
        String host = settings.optional("patchpilot.mail.host").orElse("");
        if (host.isBlank()) {
            report.accept(skip("SMTP", "patchpilot.mail.host not set: no mail is sent"));
            return;
        }
        int port = settings.intOr("patchpilot.mail.port", 587, 1, 65535);
        report.accept(reachable(
                "SMTP " + host + ":" + port, host, port, "check patchpilot.mail.host/port and the network path"));
    }

    private void slack(Consumer<Check> report) {
        String url = settings.optional("patchpilot.slack.webhook-url").orElse("");
        if (url.isBlank()) {
            report.accept(skip("Slack", "patchpilot.slack.webhook-url not set: no Slack posts"));
            return;
        }
        URI uri = URI.create(url);
        int port = uri.getPort() > 0 ? uri.getPort() : "http".equals(uri.getScheme()) ? 80 : 443;
        report.accept(reachable(
                "Slack " + uri.getHost() + ":" + port, uri.getHost(), port, "check the webhook URL and egress to it"));
    }

    private static Check reachable(String what, String host, int port, String fix) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            return pass(what, "reachable");
        } catch (IOException e) {
            return fail(what, "not reachable (" + e.getMessage() + ")", fix);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int cut = m.indexOf(" (Service:");
        return (cut > 0 ? m.substring(0, cut) : m).replace('\n', ' ');
    }

    static Check pass(String what, String detail) {
        return new Check(Result.PASS, what, detail, "");
    }

    static Check fail(String what, String detail, String fix) {
        return new Check(Result.FAIL, what, detail, fix);
    }

    static Check skip(String what, String detail) {
        return new Check(Result.SKIP, what, detail, "");
    }
}
