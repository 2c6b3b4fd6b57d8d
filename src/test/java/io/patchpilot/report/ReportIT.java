package io.patchpilot.report;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMailUtil;
import io.patchpilot.aws.AccountRegion;
import io.patchpilot.local.LocalMode;
import io.patchpilot.testing.AwsCli;
import io.patchpilot.testing.InProcessCli;
import io.patchpilot.testing.LocalFixture;
import io.patchpilot.testing.SlackStub;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * After a patch run on the default fleet, a report run: every CSV in S3 (read back with the AWS
 * CLI) matches the fleet's expected compliance (golden files, instance ids replaced by names),
 * the team's mail carries the CSVs, Slack gets the headline, each owner gets their own instances.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReportIT {
    private static final List<String> ACCOUNTS = List.of("111111111111", "222222222222", "333333333333");
    private final SlackStub slack = new SlackStub();
    private LocalMode local;
    private final Map<String, String> names = new HashMap<>();

    @BeforeAll
    void start() throws Exception {
        local = LocalFixture.start(
                "config/local/fleet.yaml",
                Map.of("patchpilot.slack.webhook-url", slack.url(), "patchpilot.report.stale-days", "0"));
        LocalFixture.tagAndPatchWithDefaultWindow(local);
        for (String account : ACCOUNTS) {
            for (String region : local.config().regions()) {
                local.aws()
                        .member(Ec2Client.class, new AccountRegion(account, region), "test")
                        .describeInstances()
                        .reservations()
                        .forEach(res -> res.instances()
                                .forEach(i -> names.put(
                                        i.instanceId(),
                                        account + "/" + region + "/"
                                                + i.tags().stream()
                                                        .filter(t -> t.key().equals("Name"))
                                                        .findFirst()
                                                        .map(t -> t.value())
                                                        .orElse("?"))));
            }
        }
    }

    @AfterAll
    void stop() {
        slack.close();
        if (local != null) local.close();
    }

    private List<MimeMessage> mails(String subjectPart) {
        return Arrays.stream(local.mail().getReceivedMessages())
                .filter(m -> {
                    try {
                        return m.getSubject().contains(subjectPart);
                    } catch (MessagingException e) {
                        return false;
                    }
                })
                .toList();
    }

    private static String reportId(MimeMessage team) throws MessagingException {
        return team.getSubject().replaceAll("^\\[patchpilot] (report-[^:]+):.*$", "$1");
    }

    /** The CSV as stored, instance ids replaced by account/region/name, volatile columns dropped, rows sorted. */
    private String normalized(String csv) {
        List<Map<String, String>> rows = Csv.rows(csv);
        List<String> keep = new ArrayList<>();
        List<List<String>> records = Csv.records(csv);
        if (!records.isEmpty()) {
            for (String c : records.get(0)) {
                if (!List.of(
                                "capturetime",
                                "ipaddress",
                                "computername",
                                "agentversion",
                                "launchtime",
                                "installedtime",
                                "executiontime",
                                "last_patch_operation",
                                "days_since",
                                "platformversion",
                                "finishedat",
                                "occurrence",
                                "runid")
                        .contains(c)) keep.add(c);
            }
        }
        List<String> lines = new ArrayList<>();
        for (Map<String, String> r : rows) {
            List<String> values = new ArrayList<>();
            for (String c : keep) values.add(names.getOrDefault(r.get(c), r.get(c)));
            lines.add(String.join(",", values));
        }
        Collections.sort(lines);
        return String.join(",", keep) + "\n" + String.join("\n", lines) + (lines.isEmpty() ? "" : "\n");
    }

    @Test
    void a_report_run_puts_every_csv_in_s3_matching_the_fleet_and_mails_the_team_slack_and_each_owner()
            throws Exception {
        assertEquals(0, InProcessCli.run(local, "report", "run").exit());
        MimeMessage team = await().atMost(Duration.ofSeconds(90))
                .until(
                        () -> mails("managed instances compliant").stream()
                                .findFirst()
                                .orElse(null),
                        Objects::nonNull);

        List<String> reports = List.of(
                "compliance_by_account_region",
                "instance_list",
                "missing_critical_security",
                "non_compliant_patches",
                "owner_non_compliant",
                "patch_compliance_report",
                "patch_run_outcomes",
                "unmanaged_instances");
        Path actual = Files.createDirectories(Path.of("target", "golden-actual"));
        List<String> differ = new ArrayList<>();
        for (String r : reports) {
            String csv = AwsCli.run(
                            local.localAws().endpoint(),
                            Map.of(),
                            "s3",
                            "cp",
                            "s3://" + local.config().buckets().reports() + "/reports/latest/" + r + ".csv",
                            "-")
                    .stdout();
            String dated = AwsCli.run(
                            local.localAws().endpoint(),
                            Map.of(),
                            "s3",
                            "cp",
                            "s3://" + local.config().buckets().reports() + "/reports/"
                                    + DateTimeFormatter.ofPattern("yyyy/MM/dd")
                                            .withZone(ZoneOffset.UTC)
                                            .format(Instant.now())
                                    + "/" + r + ".csv",
                            "-")
                    .stdout();
            assertEquals(csv, dated, r + ": the dated copy is the latest one");
            String got = normalized(csv);
            Files.writeString(actual.resolve(r + ".csv"), got);
            Path golden = Path.of("src/test/resources/golden", r + ".csv");
            if (!Files.exists(golden) || !Files.readString(golden).equals(got)) differ.add(r);
        }
        assertEquals(
                List.of(), differ, "reports differing from src/test/resources/golden (actual in target/golden-actual)");

        // the team: an HTML summary and the CSVs attached
        assertEquals("platform-team@example.com", team.getAllRecipients()[0].toString());
        List<String> attached = new ArrayList<>();
        Multipart parts = (Multipart) team.getContent();
        for (int i = 0; i < parts.getCount(); i++) {
            if (Part.ATTACHMENT.equalsIgnoreCase(parts.getBodyPart(i).getDisposition()))
                attached.add(parts.getBodyPart(i).getFileName());
        }
        assertEquals(
                reports.stream().map(r -> r + ".csv").sorted().toList(),
                attached.stream().sorted().toList());
        // Slack: the headline numbers
        String headline = team.getSubject().replace("[patchpilot] ", "");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> slack.posts().stream().anyMatch(p -> p.contains(headline)));
        // … with each CSV as a pre-signed link and its expiry; a webhook attaches nothing, so nothing says attached
        String post = slack.posts().stream()
                .filter(p -> p.contains(headline))
                .findFirst()
                .orElseThrow();
        assertTrue(post.contains("\"blocks\"") && post.contains("X-Amz-Signature") && post.contains("expire"), post);
        assertTrue(!post.contains("attached"), post);
        // each owner: one mail, only their own non-compliant instances
        Map<String, List<String>> perOwner = new HashMap<>();
        for (MimeMessage m : mails("not patch-compliant")) {
            for (Address a : m.getAllRecipients())
                perOwner.computeIfAbsent(a.toString(), k -> new ArrayList<>()).add(m.getSubject());
        }
        // carol owns prod-win-db (failed); test-batch has no owner tag: its account's contact hears of it
        assertEquals(
                Map.of(
                        "carol@example.com",
                        List.of("[patchpilot] 1 of your instances is not patch-compliant (" + reportId(team) + ")"),
                        "payments-owners@example.com",
                        List.of("[patchpilot] 1 of your instances is not patch-compliant (" + reportId(team) + ")")),
                perOwner);
        String carol = GreenMailUtil.getBody(mails("not patch-compliant").stream()
                .filter(m -> {
                    try {
                        return m.getAllRecipients()[0].toString().equals("carol@example.com");
                    } catch (MessagingException e) {
                        return false;
                    }
                })
                .findFirst()
                .orElseThrow());
        assertTrue(
                carol.contains("prod-win-db") && !carol.contains("test-batch"), "only carol's own instances: " + carol);
    }
}
