package io.patchpilot.cli;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.config.ConfigException;
import io.patchpilot.config.PatchpilotConfig;
import io.patchpilot.errors.DeadLetters;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * {@code patchpilot dlq list|redrive QUEUE}: what was rejected and why, and sending it back once
 * the cause is fixed (an account's role restored, a window created). Every step is idempotent,
 * so a message sent back twice does its work once.
 */
@Command(
        name = "dlq",
        mixinStandardHelpOptions = true,
        description = "Dead letters: list them with their reasons, send them back.",
        subcommands = {DlqCommand.ListLetters.class, DlqCommand.Redrive.class})
final class DlqCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code config-events} or {@code patchpilot-config-events} → the configured source queue. */
    static String sourceQueue(PatchpilotConfig config, String given) {
        for (String q : config.queues().all()) {
            String shortName = q.substring(q.indexOf('-') + 1); // patchpilot-config-events -> config-events
            if (given.equals(q)
                    || given.equals(shortName)
                    || given.equals(PatchpilotConfig.Queues.deadLetterQueueOf(q))) return q;
        }
        throw new ConfigException(
                "QUEUE: '" + given + "' is not one of " + config.queues().all());
    }

    /** Receives everything in the DLQ once (each message stays invisible while we hold it). */
    @AwsActions(
            value = {"sqs:GetQueueUrl", "sqs:ReceiveMessage"},
            principal = AwsActions.Principal.HUB)
    static Map<String, Message> receiveAll(SqsClient sqs, String dlqUrl, int max, int holdSeconds) {
        Map<String, Message> got = new LinkedHashMap<>();
        while (got.size() < max) {
            List<Message> batch = sqs.receiveMessage(r -> r.queueUrl(dlqUrl)
                            .maxNumberOfMessages(10)
                            .waitTimeSeconds(1)
                            .visibilityTimeout(holdSeconds)
                            .messageAttributeNames("All"))
                    .messages();
            if (batch.isEmpty()) break;
            batch.forEach(m -> got.putIfAbsent(m.messageId(), m));
        }
        return got;
    }

    @AwsActions(value = "sqs:ChangeMessageVisibility", principal = AwsActions.Principal.HUB)
    static void release(SqsClient sqs, String url, Collection<Message> messages) {
        for (Message m : messages)
            sqs.changeMessageVisibility(
                    r -> r.queueUrl(url).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
    }

    static String reason(Message m) {
        MessageAttributeValue v = m.messageAttributes().get(DeadLetters.ERROR_ATTRIBUTE);
        return v == null ? "(redriven by SQS after its last receive: a transient failure)" : v.stringValue();
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Each dead letter of QUEUE's DLQ: message id, reason, body (they stay in the DLQ).")
    static final class ListLetters implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Parameters(
                paramLabel = "QUEUE",
                description = "config-events, schedules, self-service, emergency, approvals or work.")
        String queue;

        @Option(names = "--max", defaultValue = "100", description = "At most this many. Default: ${DEFAULT-VALUE}.")
        int max;

        @Override
        public Integer call() {
            PatchpilotConfig config = target.config(target.settings());
            String dlq = PatchpilotConfig.Queues.deadLetterQueueOf(sourceQueue(config, queue));
            try (AwsClients aws = target.clients(config)) {
                SqsClient sqs = aws.hub(SqsClient.class);
                String url = sqs.getQueueUrl(r -> r.queueName(dlq)).queueUrl();
                // held while we read them all once, then visible again at once
                Map<String, Message> all = receiveAll(sqs, url, max, 60);
                for (Message m : all.values()) {
                    String body = m.body().replaceAll("\\s+", " ");
                    System.out.printf(
                            "%s  %s%n    %s%n",
                            m.messageId(), reason(m), body.length() > 200 ? body.substring(0, 200) + "…" : body);
                }
                release(sqs, url, all.values());
                System.out.printf("%d dead letter%s in %s%n", all.size(), all.size() == 1 ? "" : "s", dlq);
            }
            return ExitCode.OK;
        }
    }

    @Command(
            name = "redrive",
            mixinStandardHelpOptions = true,
            description = {
                "Send dead letters back to QUEUE (each is sent, then deleted from the DLQ: a crash in between repeats",
                "it, never loses it). The sender becomes you: emergency requests and approvals are checked against your identity."
            })
    static final class Redrive implements Callable<Integer> {
        @Mixin
        TargetOptions target;

        @Parameters(
                paramLabel = "QUEUE",
                description = "config-events, schedules, self-service, emergency, approvals or work.")
        String queue;

        @Option(names = "--id", split = ",", description = "Only these message ids (from 'dlq list'); default: all.")
        List<String> ids = List.of();

        @Option(names = "--max", defaultValue = "10000", description = "At most this many. Default: ${DEFAULT-VALUE}.")
        int max;

        @Override
        @AwsActions(
                value = {"sqs:GetQueueUrl", "sqs:SendMessage", "sqs:DeleteMessage"},
                principal = AwsActions.Principal.HUB)
        public Integer call() {
            PatchpilotConfig config = target.config(target.settings());
            String source = sourceQueue(config, queue);
            String dlq = PatchpilotConfig.Queues.deadLetterQueueOf(source);
            int sent = 0;
            try (AwsClients aws = target.clients(config)) {
                SqsClient sqs = aws.hub(SqsClient.class);
                String dlqUrl = sqs.getQueueUrl(r -> r.queueName(dlq)).queueUrl();
                String sourceUrl = sqs.getQueueUrl(r -> r.queueName(source)).queueUrl();
                for (Message m : receiveAll(sqs, dlqUrl, max, 300).values()) {
                    if (!ids.isEmpty() && !ids.contains(m.messageId())) continue;
                    Map<String, MessageAttributeValue> attributes = new HashMap<>(m.messageAttributes());
                    attributes
                            .keySet()
                            .removeAll(Set.of(DeadLetters.ERROR_ATTRIBUTE, DeadLetters.SOURCE_QUEUE_ATTRIBUTE));
                    sqs.sendMessage(
                            r -> r.queueUrl(sourceUrl).messageBody(m.body()).messageAttributes(attributes));
                    sqs.deleteMessage(r -> r.queueUrl(dlqUrl).receiptHandle(m.receiptHandle()));
                    sent++;
                }
            }
            System.out.printf("%d dead letter%s sent back from %s to %s%n", sent, sent == 1 ? "" : "s", dlq, source);
            return ExitCode.OK;
        }
    }
}
