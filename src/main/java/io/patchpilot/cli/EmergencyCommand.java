package io.patchpilot.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.ledger.Ledger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.sqs.SqsClient;

@Command(
        name = "emergency",
        mixinStandardHelpOptions = true,
        description = {
            "Emergency patching: request an organization-wide run now, approve or reject one.",
            "These send the same SQS messages anyone could send with the AWS CLI; you are who your",
            "credentials say (SQS SenderId), never a field of the message. Follow with 'patchpilot runs show REQUEST --follow'."
        },
        subcommands = {EmergencyCommand.Start.class, EmergencyCommand.Approve.class, EmergencyCommand.Reject.class})
final class EmergencyCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    abstract static class Send implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Option(
                names = "--as",
                paramLabel = "USER",
                description = "With --local: act as this local IAM user (oncall-requester, oncall-approver).")
        String as;

        /** Sends one message to the named queue with the caller's own identity. */
        void send(Function<PatchpilotConfig, String> queue, String body) {
            if (as != null && !target.local)
                throw new ConfigException("--as: only with --local; in AWS you act with your own credentials");
            PatchpilotConfig config = target.config(target.settings());
            try (AwsClients aws = target.clients(config);
                    SqsClient sqs = as == null ? null : localUserSqs(aws, config)) {
                SqsClient client = sqs == null ? aws.hub(SqsClient.class) : sqs;
                String url = client.getQueueUrl(r -> r.queueName(queue.apply(config)))
                        .queueUrl();
                String id = client.sendMessage(r -> r.queueUrl(url).messageBody(body))
                        .messageId();
                System.out.println("sent to " + queue.apply(config) + " (message " + id + ")");
            }
        }

        /** The local AWS checks no signatures: the user's access key id is enough to be that user. */
        private SqsClient localUserSqs(AwsClients aws, PatchpilotConfig config) {
            IamClient iam = aws.hub(IamClient.class, "aws-global");
            var keys = iam.listAccessKeys(r -> r.userName(as)).accessKeyMetadata();
            String key = keys.isEmpty()
                    ? iam.createAccessKey(r -> r.userName(as)).accessKey().accessKeyId()
                    : keys.get(0).accessKeyId();
            return SqsClient.builder()
                    .endpointOverride(config.endpoints().sqs().orElseThrow())
                    .region(Region.of(config.hub().region()))
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key, "local")))
                    .build();
        }
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = {
                "Request an emergency run: from a JSON FILE (the seed's payload, docs/contract.md#messages) or from options.",
                "Environments that need approval (patchpilot.emergency.approval-required) wait for one."
            })
    static final class Start extends Send {
        @Parameters(
                index = "0",
                arity = "0..1",
                paramLabel = "FILE",
                description = "The request as JSON; '-' reads stdin.")
        Path file;

        @Option(names = "--env", description = "Environment (Default, a configured one, or All).")
        String env;

        @Option(names = "--request-id", description = "Your change id; default: chg-<time>.")
        String requestId;

        @Option(names = "--accounts", split = ",", description = "Accounts (default: all).")
        List<String> accounts = List.of();

        @Option(names = "--regions", split = ",", description = "Regions (default: all configured).")
        List<String> regions = List.of();

        @Option(
                names = "--operation",
                defaultValue = "Install",
                description = "Scan or Install. Default: ${DEFAULT-VALUE}.")
        String operation;

        @Option(
                names = "--reboot",
                defaultValue = "RebootIfNeeded",
                description = "RebootIfNeeded or NoReboot. Default: ${DEFAULT-VALUE}.")
        String reboot;

        @Option(names = "--override-list", description = "s3://bucket/key of an InstallOverrideList.")
        String overrideList;

        @Option(names = "--reason", defaultValue = "", description = "Why (e.g. the CVE).")
        String reason;

        @Option(
                names = "--follow",
                description = "Wait for the run to end (through approval, if it needs one), printing its progress;"
                        + " exit code as 'runs show --follow'.")
        boolean follow;

        @Override
        public Integer call() throws IOException, InterruptedException {
            String body;
            if (file != null) {
                if (env != null) throw new ConfigException("FILE and --env: give one of them");
                body = file.toString().equals("-") ? new String(System.in.readAllBytes()) : Files.readString(file);
            } else {
                if (env == null) throw new ConfigException("--env: required when no FILE is given");
                ObjectNode m = JSON.createObjectNode()
                        .put(
                                "requestId",
                                requestId != null
                                        ? requestId
                                        : "chg-"
                                                + Instant.now()
                                                        .toString()
                                                        .replaceAll("[-:]", "")
                                                        .replaceAll("\\.\\d+Z$", "Z"))
                        .put("env", env)
                        .put("patching_operation", operation)
                        .put("operation_post_patching", reboot)
                        .put("run_patch_baseline_install_override_list", overrideList == null ? "" : overrideList)
                        .put("reason", reason);
                accounts.forEach(m.putArray("accounts")::add);
                regions.forEach(m.putArray("regions")::add);
                body = m.toString();
            }
            send(c -> c.queues().emergency(), body);
            String id = JSON.readTree(body).path("requestId").asText("?");
            if (!follow) {
                System.out.println("request " + id + ": follow with 'patchpilot runs show " + id + " --follow"
                        + (target.local ? " --local" : "") + "'");
                return ExitCode.OK;
            }
            System.out.println("run " + id);
            PatchpilotConfig config = target.config(target.settings());
            try (AwsClients aws = target.clients(config)) {
                return Follow.forConsole()
                        .follow(
                                "run " + id,
                                Follow.patchRun(new Ledger(aws, config.ledgerTable()), id),
                                "see 'patchpilot dlq list emergency'");
            }
        }
    }

    /** approve and reject: the same message with its decision. */
    abstract static class Decide extends Send {
        @Parameters(index = "0", paramLabel = "REQUEST")
        String requestId;

        abstract String decision();

        @Override
        public Integer call() {
            send(
                    c -> c.queues().approvals(),
                    JSON.createObjectNode()
                            .put("requestId", requestId)
                            .put("decision", decision())
                            .toString());
            return ExitCode.OK;
        }
    }

    @Command(
            name = "approve",
            mixinStandardHelpOptions = true,
            description = "Approve a pending emergency run (not your own request).")
    static final class Approve extends Decide {
        @Override
        String decision() {
            return "approve";
        }
    }

    @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a pending emergency run.")
    static final class Reject extends Decide {
        @Override
        String decision() {
            return "reject";
        }
    }
}
