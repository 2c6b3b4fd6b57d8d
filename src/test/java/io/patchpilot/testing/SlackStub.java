package io.patchpilot.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A Slack incoming webhook on a free loopback port: records the posts, answers what it is told. */
public final class SlackStub implements AutoCloseable {
    public static final String PATH = "/services/T0/B0/not-a-real-secret";
    private final HttpServer server;
    private final List<String> posts = new CopyOnWriteArrayList<>();
    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);

    public SlackStub() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext(PATH, ex -> {
            String post = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int answer = status.get();
            posts.add(post);
            if (answer == 200) delivered.add(post);
            byte[] body = (answer == 200 ? "ok" : "no_service").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(answer, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
    }

    public List<String> posts() {
        return posts;
    }

    /** The posts answered 200: what reached the channel. */
    public List<String> delivered() {
        return delivered;
    }

    public void answer(int httpStatus) {
        status.set(httpStatus);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
