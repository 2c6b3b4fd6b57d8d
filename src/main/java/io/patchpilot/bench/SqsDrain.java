package io.patchpilot.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/** Raw SQS work with the plain SDK: the baselines patchpilot's own figures are set against. */
public final class SqsDrain {
    private SqsDrain() {}

    /** Sends the bodies with SendMessageBatch from {@code threads} threads; returns messages/s. */
    public static double fill(SqsClient sqs, String url, List<String> bodies, int threads) throws Exception {
        List<List<String>> batches = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i += 10) batches.add(bodies.subList(i, Math.min(bodies.size(), i + 10)));
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        runThreads(threads, () -> {
            for (int b; (b = next.getAndIncrement()) < batches.size(); ) {
                List<String> batch = batches.get(b);
                List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
                for (int i = 0; i < batch.size(); i++)
                    entries.add(SendMessageBatchRequestEntry.builder()
                            .id(Integer.toString(i))
                            .messageBody(batch.get(i))
                            .build());
                var r = sqs.sendMessageBatch(x -> x.queueUrl(url).entries(entries));
                if (!r.failed().isEmpty()) throw new IllegalStateException("send failed: " + r.failed());
            }
        });
        return bodies.size() / ((System.nanoTime() - start) / 1e9);
    }

    /** Receives (10 at a time) and deletes (in batches) {@code count} messages; returns messages/s. */
    static double drain(SqsClient sqs, String url, int count, int threads) throws Exception {
        AtomicInteger received = new AtomicInteger();
        long start = System.nanoTime();
        runThreads(threads, () -> {
            while (received.get() < count) {
                List<Message> got = sqs.receiveMessage(
                                r -> r.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1))
                        .messages();
                if (got.isEmpty()) continue;
                List<DeleteMessageBatchRequestEntry> del = new ArrayList<>();
                for (int i = 0; i < got.size(); i++)
                    del.add(DeleteMessageBatchRequestEntry.builder()
                            .id(Integer.toString(i))
                            .receiptHandle(got.get(i).receiptHandle())
                            .build());
                sqs.deleteMessageBatch(r -> r.queueUrl(url).entries(del));
                received.addAndGet(got.size());
            }
        });
        return count / ((System.nanoTime() - start) / 1e9);
    }

    private interface Work {
        void run() throws Exception;
    }

    private static void runThreads(int threads, Work work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++)
                fs.add(pool.submit(() -> {
                    work.run();
                    return null;
                }));
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
    }
}
