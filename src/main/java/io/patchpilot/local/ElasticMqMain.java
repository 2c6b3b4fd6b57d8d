package io.patchpilot.local;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.elasticmq.server.ElasticMQServer;
import org.elasticmq.server.config.ElasticMQServerConfig;

/**
 * The local SQS: ElasticMQ on 127.0.0.1, run as its own process so that killing a service
 * replica never takes the queues with it. Usage: {@code ElasticMqMain PORT ACCOUNT REGION [PARENT_PID [IDENTITY_ENDPOINT]]};
 * with a parent pid it exits when that process is gone, so no orphan outlives local mode. With an
 * identity endpoint (the local AWS), clients talk to a {@link SenderIdentityProxy} on PORT that
 * gives messages their sender's principal id, and ElasticMQ listens on a private port behind it.
 * With a state directory as sixth argument, queues and their messages are kept there (ElasticMQ's
 * messages-storage, an H2 database): a stop and start finds them again, visibility and receive
 * counts included.
 */
public final class ElasticMqMain {
    private ElasticMqMain() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String account = args[1];
        String region = args[2];
        URI identity = args.length > 4 && !args[4].isEmpty() ? URI.create(args[4]) : null;
        Path stateDir = args.length > 5 && !args[5].isEmpty() ? Path.of(args[5]) : null;
        int elasticMqPort = identity == null ? port : LocalAws.freePort();
        Runnable stopServer = stateDir == null
                ? inMemory(elasticMqPort, port, account, region)
                : persistent(elasticMqPort, port, account, region, stateDir);
        SenderIdentityProxy proxy = identity == null
                ? null
                : new SenderIdentityProxy(port, URI.create("http://127.0.0.1:" + elasticMqPort), identity, region);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (proxy != null) proxy.close();
                            stopServer.run();
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

    private static Runnable inMemory(int listen, int advertised, String account, String region) {
        var server = SQSRestServerBuilder.withInterface("127.0.0.1")
                .withPort(listen)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", advertised, ""))
                .withAWSAccountId(account)
                .withAWSRegion(region)
                .start();
        server.waitUntilStarted();
        return server::stopAndWait;
    }

    /** ElasticMQ's own server, configured as the embedded one above plus messages-storage in H2. */
    private static Runnable persistent(int listen, int advertised, String account, String region, Path stateDir)
            throws Exception {
        Files.createDirectories(stateDir);
        Config config = ConfigFactory.empty()
                .withValue("rest-sqs.bind-hostname", ConfigValueFactory.fromAnyRef("127.0.0.1"))
                .withValue("rest-sqs.bind-port", ConfigValueFactory.fromAnyRef(listen))
                .withValue("node-address.host", ConfigValueFactory.fromAnyRef("127.0.0.1"))
                .withValue("node-address.port", ConfigValueFactory.fromAnyRef(advertised))
                .withValue("aws.accountId", ConfigValueFactory.fromAnyRef(account))
                .withValue("aws.region", ConfigValueFactory.fromAnyRef(region))
                .withValue("messages-storage.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue(
                        "messages-storage.uri",
                        ConfigValueFactory.fromAnyRef(
                                "jdbc:h2:" + stateDir.toAbsolutePath().resolve("queues")))
                .withValue("messages-storage.prune-data-on-init", ConfigValueFactory.fromAnyRef(false))
                .withFallback(ConfigFactory.load());
        var stop = new ElasticMQServer(new ElasticMQServerConfig(config)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!listening(listen)) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("ElasticMQ did not listen on " + listen);
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return stop::apply;
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
