package io.patchpilot.local;

import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * The local SQS: ElasticMQ on 127.0.0.1, run as its own process so that killing a service
 * replica never takes the queues with it. Usage: {@code ElasticMqMain PORT ACCOUNT REGION [PARENT_PID [IDENTITY_ENDPOINT]]};
 * with a parent pid it exits when that process is gone, so no orphan outlives local mode. With an
 * identity endpoint (the local AWS), clients talk to a {@link SenderIdentityProxy} on PORT that
 * gives messages their sender's principal id, and ElasticMQ listens on a private port behind it.
 */
public final class ElasticMqMain {
    private ElasticMqMain() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String account = args[1];
        String region = args[2];
        URI identity = args.length > 4 && !args[4].isEmpty() ? URI.create(args[4]) : null;
        int elasticMqPort = identity == null ? port : LocalAws.freePort();
        SQSRestServer server = SQSRestServerBuilder.withInterface("127.0.0.1")
                .withPort(elasticMqPort)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", port, ""))
                .withAWSAccountId(account)
                .withAWSRegion(region)
                .start();
        server.waitUntilStarted();
        SenderIdentityProxy proxy = identity == null
                ? null
                : new SenderIdentityProxy(port, URI.create("http://127.0.0.1:" + elasticMqPort), identity, region);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (proxy != null) proxy.close();
                            server.stopAndWait();
                            stop.countDown();
                        },
                        "elasticmq-stop"));
        System.out.println("elasticmq ready http://127.0.0.1:" + port);
        System.out.flush();
        if (args.length > 3) {
            long parent = Long.parseLong(args[3]);
            while (!stop.await(1, TimeUnit.SECONDS)) {
                if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) continue;
                System.exit(0);
            }
        } else {
            stop.await();
        }
    }
}
