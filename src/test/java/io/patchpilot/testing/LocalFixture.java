package io.patchpilot.testing;

import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** Starts local mode on free loopback ports for an end-to-end test class. */
public final class LocalFixture {
    private LocalFixture() {}

    /** The outbox goes to a fresh temporary folder unless the settings name one. */
    public static LocalMode start(String fleet, Map<String, String> settings) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.putIfAbsent("patchpilot.notify.outbox", java.nio.file.Files.createTempDirectory("patchpilot-outbox").toString());
        return LocalMode.start(new LocalMode.Options(Path.of("").toAbsolutePath(), Path.of(fleet),
                LocalAws.freePortPair(), LocalAws.freePort(), List.of("--command-delay", "0.2", "--refresh-delay", "0.2"), all));
    }

    public static String queueUrl(LocalMode local, String queue) {
        return local.aws().hub(SqsClient.class).getQueueUrl(r -> r.queueName(queue)).queueUrl();
    }

    /** Visible plus in-flight messages. */
    public static int depth(LocalMode local, String queue) {
        return io.patchpilot.aws.QueueDepth.of(local.aws().hub(SqsClient.class), queueUrl(local, queue));
    }

    /** Receives and deletes everything currently in a queue (DLQ inspection). */
    public static List<Message> drain(LocalMode local, String queue) {
        SqsClient sqs = local.aws().hub(SqsClient.class);
        String url = queueUrl(local, queue);
        List<Message> all = new java.util.ArrayList<>();
        while (true) {
            List<Message> got = sqs.receiveMessage(r -> r.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(0)
                    .messageAttributeNames("All").attributeNamesWithStrings("All")).messages();
            if (got.isEmpty()) return all;
            all.addAll(got);
            for (Message m : got) sqs.deleteMessage(r -> r.queueUrl(url).receiptHandle(m.receiptHandle()));
        }
    }
}
