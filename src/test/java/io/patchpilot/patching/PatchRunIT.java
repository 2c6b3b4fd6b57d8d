package io.patchpilot.patching;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMailUtil;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.ledger.Ledger;
import io.patchpilot.ledger.RunKeys;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.SlackStub;
import io.patchpilot.windows.MaintenanceWindow;
import io.patchpilot.windows.WindowNames;
import io.patchpilot.windows.WindowSchedule;
import io.patchpilot.windows.WindowValidator;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.InstancePatchState;

/** The default window fired on the default fleet, seen through AWS and the ledger. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatchRunIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private LocalMode local;
    private final SlackStub slack = new SlackStub();

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start("config/local/fleet.yaml", Map.of("patchpilot.slack.webhook-url", slack.url()));
        // tag the fleet for its windows first, as the sweep does
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> name("111111111111", "us-east-1", "untagged-worker")
                                .containsKey("maintenance_window")
                        && name("333333333333", "eu-west-1", "reporting").containsKey("maintenance_window")
                        && name("222222222222", "eu-west-1", "prod-eu-api").containsKey("maintenance_window")
                        && LocalFixture.depth(local, "patchpilot-work") == 0);
    }

    @AfterAll
    void stop() {
        slack.close();
        if (local != null) local.close();
    }

    private Map<String, String> name(String account, String region, String name) {
        Map<String, String> tags = new HashMap<>();
        local.aws()
                .member(Ec2Client.class, new AccountRegion(account, region), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values(name)))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .tags()
                .forEach(t -> tags.put(t.key(), t.value()));
        return tags;
    }

    private String id(String account, String region, String name) {
        return local.aws()
                .member(Ec2Client.class, new AccountRegion(account, region), "test")
                .describeInstances(r -> r.filters(f -> f.name("tag:Name").values(name)))
                .reservations()
                .get(0)
                .instances()
                .get(0)
                .instanceId();
    }

    @Test
    @Order(1)
    void a_denied_account_fails_with_its_reason_and_a_disabled_region_is_not_a_failure_while_the_rest_complete()
            throws Exception {
        Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow()
                .plus(Duration.ofDays(7));
        local.localAws()
                .control()
                .post("faults", Map.of("rules", List.of(), "accessDeniedAccounts", List.of("333333333333")));
        local.localAws().control().post("sim", Map.of("disabledRegions", Map.of("222222222222", List.of("eu-west-1"))));
        String runId = PatchRuns.runId(MaintenanceWindow.defaultWindow(null), occurrence);
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        try {
            AwsCli.json(
                    local.localAws().sqsEndpoint(),
                    "sqs",
                    "send-message",
                    "--queue-url",
                    LocalFixture.queueUrl(local, "patchpilot-schedules"),
                    "--message-body",
                    "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence
                            + "\"}");
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                            .map(r -> r.get("status").s())
                            .filter(s -> s.startsWith("Completed") || s.equals("Succeeded"))
                            .isPresent());
        } finally {
            local.localAws().control().delete("faults");
            local.localAws().control().post("sim", Map.of("disabledRegions", Map.of("222222222222", List.of())));
        }
        Map<String, String> states = new HashMap<>();
        Map<String, String> reasons = new HashMap<>();
        for (Map<String, AttributeValue> t : ledger.partition(RunKeys.pk(runId))) {
            if (!t.get("sk").s().startsWith("TARGET#")) continue;
            states.put(
                    t.get("account").s() + "/" + t.get("region").s(),
                    t.get("state").s());
            reasons.put(
                    t.get("account").s() + "/" + t.get("region").s(),
                    t.get("reason").s());
        }
        assertEquals("Failed", states.get("333333333333/us-east-1"));
        assertEquals("Failed", states.get("333333333333/eu-west-1"));
        assertTrue(reasons.get("333333333333/us-east-1").startsWith("AccessDenied"), reasons.toString());
        assertEquals("RegionNotEnabled", states.get("222222222222/eu-west-1"));
        assertEquals("Done", states.get("222222222222/us-east-1"));
        assertEquals("Done", states.get("111111111111/us-east-1"));
        assertEquals("Done", states.get("111111111111/eu-west-1"));
        JsonNode counts = JSON.readTree(ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                .orElseThrow()
                .get("counts")
                .s());
        assertEquals(2, counts.path("targetsFailed").asInt());
        assertEquals(1, counts.path("targetsRegionNotEnabled").asInt());
    }

    @Test
    @Order(2)
    void firing_the_default_window_twice_patches_the_tagged_fleet_once_and_records_every_outcome() throws Exception {
        Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow();
        String fire =
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"" + occurrence + "\"}";
        String schedules = LocalFixture.queueUrl(local, "patchpilot-schedules");
        local.localAws().control().delete("calls");
        for (int i = 0; i < 2; i++)
            AwsCli.json(
                    local.localAws().sqsEndpoint(),
                    "sqs",
                    "send-message",
                    "--queue-url",
                    schedules,
                    "--message-body",
                    fire);

        String runId = PatchRuns.runId(MaintenanceWindow.defaultWindow(null), occurrence);
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        await().atMost(Duration.ofSeconds(90))
                .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.startsWith("Completed") || s.equals("Succeeded"))
                        .isPresent());
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(runId), RunKeys.RUN).orElseThrow();
        assertEquals("CompletedWithFailures", run.get("status").s(), "prod-win-db fails its patching");
        assertEquals(
                1,
                ledger.partition(RunKeys.INDEX).stream()
                        .filter(i -> i.get("runId").s().equals(runId))
                        .count(),
                "one run");

        Map<String, JsonNode> outcomes = new HashMap<>();
        for (Map<String, AttributeValue> item : ledger.partition(RunKeys.pk(runId))) {
            if (item.get("sk").s().startsWith("TARGET#") && item.containsKey("instances")) {
                JSON.readTree(item.get("instances").s())
                        .properties()
                        .forEach(e -> outcomes.put(e.getKey(), e.getValue()));
            }
        }
        assertEquals(
                "Success",
                outcomes.get(id("111111111111", "us-east-1", "untagged-worker"))
                        .path("status")
                        .asText());
        assertEquals(
                "Success",
                outcomes.get(id("222222222222", "eu-west-1", "prod-eu-api"))
                        .path("status")
                        .asText());
        assertEquals(
                "Failed",
                outcomes.get(id("222222222222", "us-east-1", "prod-win-db"))
                        .path("status")
                        .asText());
        JsonNode noAgent = outcomes.get(id("111111111111", "us-east-1", "no-agent"));
        assertEquals("Skipped", noAgent.path("status").asText());
        assertEquals(
                "not managed by SSM (agent not reporting)",
                noAgent.path("reason").asText());
        assertEquals(
                "instance is stopped",
                outcomes.get(id("111111111111", "us-east-1", "stopped-box"))
                        .path("reason")
                        .asText());
        assertTrue(
                !outcomes.containsKey(id("111111111111", "us-east-1", "opted-out")),
                "exempt instances are not the window's");

        // the instances really were patched (Install, through AWS's own view)
        SsmClient ssm = local.aws().member(SsmClient.class, new AccountRegion("111111111111", "us-east-1"), "test");
        InstancePatchState state = ssm.describeInstancePatchStates(
                        r -> r.instanceIds(id("111111111111", "us-east-1", "untagged-worker")))
                .instancePatchStates()
                .get(0);
        assertEquals(0, state.missingCount());
        assertEquals("Install", state.operationAsString());
        // one patch command per account-region with instances to patch, despite the duplicate fire (the
        // AutoScaling group's AMI build sends its own, commented "patchpilot-ami …")
        long targetsWithCommands = ledger.partition(RunKeys.pk(runId)).stream()
                .filter(i -> i.containsKey("commandIds"))
                .count();
        long runCommands = 0;
        for (String account : List.of("111111111111", "222222222222", "333333333333")) {
            for (String region : local.config().regions()) {
                runCommands += local
                        .aws()
                        .member(SsmClient.class, new AccountRegion(account, region), "test")
                        .listCommandsPaginator(r -> r.maxResults(50))
                        .commands()
                        .stream()
                        .filter(c -> c.comment() != null && c.comment().startsWith("patchpilot " + runId + " "))
                        .count();
            }
        }
        assertEquals(targetsWithCommands, runCommands);
        JsonNode counts = JSON.readTree(run.get("counts").s());
        assertEquals(
                outcomes.values().stream()
                        .filter(o -> o.path("status").asText().equals("Success"))
                        .count(),
                counts.path("Success").asLong());
        assertTrue(LocalFixture.drain(local, "patchpilot-work-dlq").isEmpty());
        assertTrue(LocalFixture.drain(local, "patchpilot-schedules-dlq").isEmpty());

        // what an operator sees
        InProcessCli.Result list = InProcessCli.run(local, "runs", "list");
        assertTrue(list.out().contains(runId) && list.out().contains("CompletedWithFailures"), list.out());
        InProcessCli.Result show = InProcessCli.run(local, "runs", "show", runId, "--follow");
        assertEquals(1, show.exit(), "completed with failures");
        assertTrue(
                show.out().contains(id("222222222222", "us-east-1", "prod-win-db") + " ")
                        && show.out().contains("Failed"),
                show.out());
        assertTrue(show.out().contains("222222222222/eu-west-1  Done"), show.out());

        // the summary reached the team by mail (with what needs attention) and on Slack
        String subject = "[patchpilot] " + runId + ": CompletedWithFailures - "
                + counts.path("Success").asLong() + " patched, "
                + (counts.path("Failed").asLong()
                        + counts.path("Cancelled").asLong()
                        + counts.path("TimedOut").asLong())
                + " failed, "
                + counts.path("Skipped").asLong() + " skipped"
                + " - Default_maintenance_window (organization)";
        MimeMessage mail = mailWithSubject(subject);
        assertEquals("platform-team@example.com", mail.getAllRecipients()[0].toString());
        String content = GreenMailUtil.getBody(mail);
        assertTrue(content.contains(id("222222222222", "us-east-1", "prod-win-db")), content);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> slack.posts().stream().anyMatch(p -> p.contains(runId + ": CompletedWithFailures")));
        try (var copies = Files.list(local.outbox().resolve("mail"))) {
            assertTrue(
                    copies.anyMatch(f -> f.getFileName().toString().contains(runId.replace("-", "-"))),
                    "a copy in the outbox");
        }
        everyOutwardTextNamesTheWindowAndGivesTheSameFigures(runId, list.out(), show.out(), mailText(mail));
        eachInstanceCarriesItsCommandAndAFailureItsWhy(runId, show.out(), mailText(mail));
        theGroupsAmiPipelineIsStepsWithTimes(runId, show.out());
    }

    /** dev-web-asg's AMI refresh: each step done with its times, in the API and 'runs show'; no internals on show. */
    private void theGroupsAmiPipelineIsStepsWithTimes(String runId, String cliShow) throws Exception {
        JsonNode run = JSON.readTree(
                httpGet("http://127.0.0.1:" + local.config().http().port() + "/api/runs/" + runId));
        JsonNode group = null;
        for (JsonNode g : run.path("groups")) if (g.path("group").asText().equals("dev-web-asg")) group = g;
        assertTrue(group != null, run.path("groups").toString());
        assertEquals("Refreshed", group.path("state").asText(), group.toString());
        List<String> names = new ArrayList<>();
        for (JsonNode step : group.path("steps")) {
            names.add(step.path("name").asText());
            String stepStatus = step.path("status").asText();
            if (!stepStatus.equals("Done")) continue;
            Instant started = Instant.parse(step.path("startedAt").asText());
            Instant ended = Instant.parse(step.path("endedAt").asText());
            assertTrue(!ended.isBefore(started), step.toString());
            assertTrue(
                    cliShow.contains("      " + step.path("name").asText()) && cliShow.contains(stepStatus), cliShow);
        }
        assertEquals(
                List.of(
                        "Build instance launched",
                        "SSM-managed",
                        "Patched",
                        "Stopped",
                        "Image available",
                        "Launch template version",
                        "Instance refresh",
                        "Scan",
                        "Cleanup"),
                names);
        for (JsonNode step : group.path("steps"))
            assertEquals(
                    "Done", step.path("status").asText(), group.path("steps").toString());
        assertEquals(100, group.path("steps").get(6).path("percent").asInt(), group.toString());
        assertTrue(group.path("steps").get(4).path("detail").asText().startsWith("ami-"), group.toString());
        // the build's bookkeeping is only under "debug"
        for (String internal : List.of("token", "profileName", "securityGroups", "history"))
            assertTrue(!group.has(internal), internal + " in " + group);
        assertTrue(group.path("debug").has("token"), group.toString());
    }

    /** The failed instance: its command, the last lines of its output, and where SSM wrote all of it. */
    private void eachInstanceCarriesItsCommandAndAFailureItsWhy(String runId, String cliShow, String mail)
            throws Exception {
        JsonNode run = JSON.readTree(
                httpGet("http://127.0.0.1:" + local.config().http().port() + "/api/runs/" + runId));
        Map<String, JsonNode> byId = new HashMap<>();
        run.path("targets")
                .forEach(t -> t.path("instances")
                        .forEach(i -> byId.put(i.path("instanceId").asText(), i)));
        JsonNode ok = byId.get(id("111111111111", "us-east-1", "untagged-worker"));
        assertEquals("AWS-RunPatchBaseline", ok.path("document").asText(), ok.toString());
        assertTrue(ok.hasNonNull("commandId") && ok.hasNonNull("startedAt") && ok.hasNonNull("endedAt"), ok.toString());
        assertTrue(!ok.has("outputTail"), "a success costs no extra GetCommandInvocation: " + ok);
        for (JsonNode i : byId.values())
            if (i.path("status").asText().equals("Success"))
                assertTrue(
                        i.path("patches").has("installed")
                                && i.path("patches").path("missing").asInt() == 0,
                        i.toString());
        assertTrue(ok.path("patches").path("installed").asInt() >= 1, ok.toString());

        String failedId = id("222222222222", "us-east-1", "prod-win-db");
        JsonNode failed = byId.get(failedId);
        String commandId = failed.path("commandId").asText();
        assertTrue(!commandId.isEmpty(), failed.toString());
        assertTrue(failed.path("outputTail").asText().contains("Failed to install"), failed.toString());
        assertTrue(failed.path("reason").asText().contains("package manager"), failed.toString());
        String prefix = "patching/accountid=222222222222/region=us-east-1/run=" + runId + "/" + commandId + "/"
                + failedId + "/";
        String location = "s3://" + local.config().buckets().logs() + "/" + prefix;
        assertEquals(location, failed.path("outputLocation").asText());
        assertTrue(
                !local.aws()
                        .hub(S3Client.class)
                        .listObjectsV2(
                                r -> r.bucket(local.config().buckets().logs()).prefix(prefix))
                        .contents()
                        .isEmpty(),
                "the output is where the run says: " + location);
        assertTrue(cliShow.contains("full output: " + location) && cliShow.contains("| Failed to install"), cliShow);
        assertTrue(mail.contains("output: " + location), mail);
    }

    /**
     * What a person or client reads of the run (API JSON, CLI, mail, the Slack post in the outbox):
     * the window by the name people know, never its ledger key, and one set of figures.
     */
    private void everyOutwardTextNamesTheWindowAndGivesTheSameFigures(
            String runId, String cliList, String cliShow, String mail) throws Exception {
        String base = "http://127.0.0.1:" + local.config().http().port();
        String apiRun = httpGet(base + "/api/runs/" + runId);
        String apiList = httpGet(base + "/api/runs?limit=100");
        List<String> slackPosts = new ArrayList<>();
        try (var posts = Files.list(local.outbox().resolve("slack"))) {
            for (Path p : posts.toList()) {
                String post = Files.readString(p);
                if (!post.contains(runId)) continue;
                slackPosts.add(JSON.readTree(post).path("text").asText());
                assertTrue(JSON.readTree(post).path("blocks").isArray(), "Block Kit: " + post);
                assertTrue(!post.contains("attached"), post);
            }
        }
        assertEquals(1, slackPosts.size(), "one Slack post of the run in the outbox");
        Map<String, String> texts = Map.of(
                "/api/runs/{id}", apiRun,
                "/api/runs", apiList,
                "runs list", cliList,
                "runs show", cliShow,
                "mail", mail,
                "slack", slackPosts.get(0));
        texts.forEach((where, text) -> {
            assertTrue(!WindowNames.containsLedgerKey(text), where + " shows a ledger key: " + text);
            assertTrue(text.contains("Default_maintenance_window (organization)"), where + ": " + text);
        });

        RunFigures f = JSON.treeToValue(JSON.readTree(apiRun).path("figures"), RunFigures.class);
        assertTrue(f.accountRegionsDone() <= f.accountRegionsTotal(), f.toString());
        assertEquals(f.accountRegionsTotal(), f.accountRegionsDone(), "the run has ended");
        assertEquals(
                ledger().partition(RunKeys.pk(runId)).stream()
                        .filter(i -> i.get("sk").s().startsWith("TARGET#"))
                        .count(),
                f.accountRegionsTotal(),
                "account-regions, not groups");
        assertTrue(
                f.instances().keySet().stream().noneMatch(k -> k.startsWith("asgs") || k.startsWith("targets")),
                f.toString());
        assertTrue(f.groups().containsKey("Refreshed"), "the default fleet's group: " + f);
        for (String where : List.of("runs show", "mail", "slack")) {
            String text = texts.get(where);
            assertTrue(text.contains(f.accountRegionsLine()), where + " says " + f.accountRegionsLine() + ": " + text);
            assertTrue(text.contains(f.instancesLine()), where + " says " + f.instancesLine() + ": " + text);
            assertTrue(text.contains("AutoScaling groups: " + f.groupsLine()), where + ": " + text);
        }
        assertTrue(cliList.contains(f.instancesLine()) && cliList.contains("groups: " + f.groupsLine()), cliList);
    }

    private String httpGet(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    /** The mail's text and HTML parts, decoded. */
    private static String mailText(Part part) throws Exception {
        Object content = part.getContent();
        if (content instanceof String text) return text;
        StringBuilder out = new StringBuilder();
        if (content instanceof Multipart multi)
            for (int i = 0; i < multi.getCount(); i++)
                out.append(mailText(multi.getBodyPart(i))).append('\n');
        return out.toString();
    }

    private List<String> subjects() {
        return Arrays.stream(local.mail().getReceivedMessages())
                .map(m -> {
                    try {
                        return m.getSubject();
                    } catch (MessagingException e) {
                        return "?";
                    }
                })
                .toList();
    }

    private MimeMessage mailWithSubject(String subject) {
        return await().conditionEvaluationListener(c -> {})
                .alias(subject + " among " + subjects())
                .atMost(Duration.ofSeconds(30))
                .until(
                        () -> Arrays.stream(local.mail().getReceivedMessages())
                                .filter(m -> {
                                    try {
                                        return subject.equals(m.getSubject());
                                    } catch (MessagingException e) {
                                        return false;
                                    }
                                })
                                .findFirst()
                                .orElse(null),
                        Objects::nonNull);
    }

    @Test
    @Order(3)
    void plan_lists_what_the_default_window_would_patch_and_skip_without_changing_anything() {
        local.localAws().control().delete("calls");
        InProcessCli.Result plan = InProcessCli.run(
                local, "plan", "--window", "Default", "--account", "111111111111", "--region", "us-east-1");
        assertEquals(0, plan.exit(), plan.err());
        assertTrue(plan.out().contains("  patch " + id("111111111111", "us-east-1", "untagged-worker")), plan.out());
        assertTrue(
                plan.out().contains("  skip  " + id("111111111111", "us-east-1", "no-agent") + "  not managed by SSM"),
                plan.out());
        assertTrue(
                plan.out()
                        .contains(
                                "  skip  " + id("111111111111", "us-east-1", "stopped-box") + "  instance is stopped"),
                plan.out());
        assertEquals(0, local.localAws().control().callCount("ssm", "SendCommand"), "read-only");
        assertEquals(0, local.localAws().control().callCount("ec2", "CreateTags"), "read-only");
    }

    @Test
    @Order(4)
    void a_fire_at_a_time_that_is_not_an_occurrence_starts_nothing_and_is_a_dead_letter_saying_why() {
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        long before = ledger.partition(RunKeys.INDEX).size();
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Default_maintenance_window\",\"time\":\"2026-12-02T05:00:00Z\"}");
        await().atMost(Duration.ofSeconds(30)).until(() -> LocalFixture.depth(local, "patchpilot-schedules-dlq") == 1);
        assertEquals(before, ledger.partition(RunKeys.INDEX).size());
        List<Message> dead = LocalFixture.drain(local, "patchpilot-schedules-dlq");
        String reason = dead.get(0).messageAttributes().get("patchpilot-error").stringValue();
        assertTrue(
                reason.matches(
                        "time: 2026-12-02T05:00:00Z is not an occurrence of Default_maintenance_window"
                                + " \\(organization-wide, every FRIDAY 05:00 UTC for 6 h \\(cutoff 1 h\\)\\); next occurrence"
                                + " \\d{4}-\\d\\d-\\d\\dT05:00:00Z; to run it now: patchpilot window run Default_maintenance_window"),
                reason);
    }

    @Test
    @Order(5)
    void a_prod_window_holds_until_its_test_predecessor_has_run_well() throws Exception {
        Path dir = Files.createTempDirectory("windows");
        Path test = Files.writeString(dir.resolve("test.json"), "{\"Environment\":\"Test\"}");
        Path prod = Files.writeString(
                dir.resolve("prod.json"),
                "{\"Environment\":\"Prod\",\"PredecessorWindow\":\"Test\",\"SoakHours\":0,\"MaxFailurePercent\":10}");
        assertEquals(
                0, InProcessCli.run(local, "window", "create", test.toString()).exit());
        assertEquals(
                0, InProcessCli.run(local, "window", "create", prod.toString()).exit());
        MaintenanceWindow prodWindow = MaintenanceWindow.defaultWindow(null);
        Instant first = WindowSchedule.nextOpening(prodWindow, Instant.now()).orElseThrow();
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        local.localAws().control().delete("calls");

        fire("Prod_maintenance_window", first);
        String blocked =
                "Prod-" + first.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ledger.get(RunKeys.pk(blocked), RunKeys.RUN).isPresent());
        Map<String, AttributeValue> run =
                ledger.get(RunKeys.pk(blocked), RunKeys.RUN).orElseThrow();
        assertEquals("Blocked", run.get("status").s());
        assertEquals(
                "predecessor Test_maintenance_window has no run yet",
                run.get("reason").s());
        assertEquals(0, local.localAws().control().callCount("ssm", "SendCommand"), "a blocked run patches nothing");
        mailWithSubject("[patchpilot] " + blocked + ": Blocked - predecessor Test_maintenance_window has no run yet");

        fire("Test_maintenance_window", first);
        String testRun =
                "Test-" + first.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> ledger.get(RunKeys.pk(testRun), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded"))
                        .isPresent());
        Instant second = first.plus(Duration.ofDays(7));
        fire("Prod_maintenance_window", second);
        String proceeding =
                "Prod-" + second.toString().replace("-", "").replace(":", "").replaceAll("00Z$", "Z");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> ledger.get(RunKeys.pk(proceeding), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                        .isPresent());
    }

    @Test
    @Order(6)
    void a_window_with_hooks_patches_through_the_wrapper_document_with_its_hook_documents() throws Exception {
        String json =
                "{\"Environment\":\"Dev\",\"PreInstallHookDocName\":\"Drain-From-ALB\",\"OnExitHookDocName\":\"Start-App\"}";
        Path file = Files.writeString(Files.createTempFile("dev-hooks", ".json"), json);
        assertEquals(
                0,
                InProcessCli.run(local, "window", "create", file.toString(), "--account", "111111111111")
                        .exit());
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"reconcile\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "Dev_maintenance_window"
                        .equals(name("111111111111", "us-east-1", "dev-win").get("maintenance_window")));

        MaintenanceWindow dev =
                new WindowValidator(List.of("Dev", "Test", "Prod")).validate(JSON.readTree(json), "111111111111");
        Instant occurrence = WindowSchedule.nextOpening(dev, Instant.now()).orElseThrow();
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"Dev_maintenance_window\",\"account\":\"111111111111\",\"time\":\""
                        + occurrence + "\"}");
        String runId = PatchRuns.runId(dev, occurrence);
        Ledger ledger = (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> ledger.get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded"))
                        .isPresent());

        SsmClient ssm = local.aws().member(SsmClient.class, new AccountRegion("111111111111", "us-east-1"), "test");
        var commands = ssm.listCommands(r -> r.maxResults(50)).commands().stream()
                .filter(c -> c.comment() != null && c.comment().startsWith("patchpilot " + runId + " "))
                .toList();
        assertEquals(1, commands.size(), "one command for the account-region's Dev instances");
        assertEquals("AWS-RunPatchBaselineWithHooks", commands.get(0).documentName());
        assertEquals(List.of("Drain-From-ALB"), commands.get(0).parameters().get("PreInstallHookDocName"));
        assertEquals(List.of("AWS-Noop"), commands.get(0).parameters().get("PostInstallHookDocName"));
        assertEquals(List.of("Start-App"), commands.get(0).parameters().get("OnExitHookDocName"));
        assertTrue(
                commands.get(0).instanceIds().contains(id("111111111111", "us-east-1", "dev-win")),
                commands.get(0).instanceIds().toString());
        assertEquals(
                0,
                ssm.describeInstancePatchStates(r -> r.instanceIds(id("111111111111", "us-east-1", "dev-win")))
                        .instancePatchStates()
                        .get(0)
                        .missingCount());
    }

    @Test
    @Order(7)
    void the_same_step_delivered_three_times_at_once_sends_its_commands_once() throws Exception {
        Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow()
                .plus(Duration.ofDays(14));
        String runId = PatchRuns.runId(MaintenanceWindow.defaultWindow(null), occurrence);
        List<String> bodies = heldSteps(runId, occurrence);
        try {
            String step = bodies.stream()
                    .filter(b -> b.contains("\"111111111111\"") && b.contains("us-east-1"))
                    .findFirst()
                    .orElseThrow();
            PatchTargetStep steps =
                    local.service().camel().getRegistry().lookupByNameAndType("patchTargetStep", PatchTargetStep.class);
            var pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int i = 0; i < 3; i++) running.add(pool.submit(() -> steps.send(step)));
                for (var f : running) f.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
        } finally {
            release(bodies); // the run goes on as usual
        }
        SsmClient ssm = local.aws().member(SsmClient.class, new AccountRegion("111111111111", "us-east-1"), "test");
        awaitRunEnded(runId);
        var commands = ssm.listCommands(r -> r.maxResults(50)).commands().stream()
                .filter(c -> c.comment() != null && c.comment().startsWith("patchpilot " + runId + " "))
                .toList();
        assertEquals(1, commands.size(), "one command for 111111111111/us-east-1: " + commands);
    }

    @Test
    @Order(8)
    void a_step_still_failing_on_its_last_receive_ends_its_target_as_failed_and_the_run_completes() throws Exception {
        Instant occurrence = WindowSchedule.nextOpening(MaintenanceWindow.defaultWindow(null), Instant.now())
                .orElseThrow()
                .plus(Duration.ofDays(21));
        String runId = PatchRuns.runId(MaintenanceWindow.defaultWindow(null), occurrence);
        List<String> bodies = heldSteps(runId, occurrence);
        try {
            String step = bodies.stream()
                    .filter(b -> b.contains("\"111111111111\"") && b.contains("us-east-1"))
                    .findFirst()
                    .orElseThrow();
            bodies.remove(step);
            PatchTargetStep steps =
                    local.service().camel().getRegistry().lookupByNameAndType("patchTargetStep", PatchTargetStep.class);
            local.localAws()
                    .control()
                    .post(
                            "faults",
                            Map.of(
                                    "rules",
                                    List.of(Map.of("service", "ssm", "operation", "SendCommand", "errorRate", 1.0))));
            try {
                // (an earlier receive rethrows for SQS to redeliver, and would hold the target's lease meanwhile)
                steps.send(step, Map.of("ApproximateReceiveCount", "5"));
            } finally {
                local.localAws().control().delete("faults");
            }
        } finally {
            release(bodies); // the rest of the run goes on as usual
        }
        awaitRunEnded(runId);
        assertEquals(
                "CompletedWithFailures",
                ledger().get(RunKeys.pk(runId), RunKeys.RUN)
                        .orElseThrow()
                        .get("status")
                        .s());
        Map<String, AttributeValue> target =
                ledger().get(RunKeys.pk(runId), "TARGET#111111111111#us-east-1").orElseThrow();
        assertEquals("Failed", target.get("state").s());
        assertTrue(
                target.get("reason").s().startsWith("still failing after 5 receives: Internal"),
                target.get("reason").s());
        assertEquals(
                "Done",
                ledger().get(RunKeys.pk(runId), "TARGET#111111111111#eu-west-1")
                        .orElseThrow()
                        .get("state")
                        .s());
        // and the step lies in the work DLQ with the same reason, for dlq redrive work to resume it
        List<Message> dead = LocalFixture.drain(local, "patchpilot-work-dlq");
        assertEquals(1, dead.size(), dead.toString());
        assertEquals(
                target.get("reason").s(),
                dead.get(0).messageAttributes().get("patchpilot-error").stringValue());
        assertEquals(
                target.get("gaveUpToken").s(),
                dead.get(0).messageAttributes().get("patchpilot-give-up").stringValue());
    }

    private void awaitRunEnded(String runId) {
        await().atMost(Duration.ofSeconds(90))
                .until(() -> ledger().get(RunKeys.pk(runId), RunKeys.RUN)
                        .map(r -> r.get("status").s())
                        .filter(s -> s.equals("Succeeded") || s.equals("CompletedWithFailures"))
                        .isPresent());
    }

    /** Fires the Default window for {@code occurrence} with the work route suspended and takes the run's 8 patch-target steps off the queue. */
    private List<String> heldSteps(String runId, Instant occurrence) throws Exception {
        local.service().camel().getRouteController().suspendRoute("work");
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String workQueue = LocalFixture.queueUrl(local, "patchpilot-work");
        List<String> bodies = new ArrayList<>();
        try {
            fire("Default_maintenance_window", occurrence);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                sqs.receiveMessage(r -> r.queueUrl(workQueue).maxNumberOfMessages(10))
                        .messages()
                        .forEach(m -> {
                            if (m.body().contains(runId)) bodies.add(m.body());
                            sqs.deleteMessage(r -> r.queueUrl(workQueue).receiptHandle(m.receiptHandle()));
                        });
                return bodies.size() >= 8;
            });
            return bodies;
        } catch (RuntimeException e) {
            release(bodies);
            throw e;
        }
    }

    /** Puts held steps back on the work queue and resumes its route. */
    private void release(List<String> bodies) throws Exception {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String workQueue = LocalFixture.queueUrl(local, "patchpilot-work");
        for (String b : bodies) sqs.sendMessage(r -> r.queueUrl(workQueue).messageBody(b));
        local.service().camel().getRouteController().resumeRoute("work");
    }

    private Ledger ledger() {
        return (Ledger) local.service().camel().getRegistry().lookupByName("ledger");
    }

    private void fire(String window, Instant at) {
        AwsCli.json(
                local.localAws().sqsEndpoint(),
                "sqs",
                "send-message",
                "--queue-url",
                LocalFixture.queueUrl(local, "patchpilot-schedules"),
                "--message-body",
                "{\"type\":\"window-fire\",\"window\":\"" + window + "\",\"time\":\"" + at + "\"}");
    }
}
