package io.patchpilot.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Gives the local SQS real sender identities. ElasticMQ reports the client's IP as every message's
 * {@code SenderId}; AWS reports the sender's principal id ({@code AIDA…} for an IAM user,
 * {@code AROA…:session} for an assumed role), and emergency approvals depend on it. This proxy
 * sits in front of ElasticMQ: it learns the sender of each message it forwards (the access key in
 * the request's signature, resolved by the local AWS's own STS GetCallerIdentity) and puts that
 * principal id into the {@code SenderId} of the messages ElasticMQ returns. It also injects the
 * SQS faults set through the local AWS's faults API ({@link SqsFaults}: throttling, 5xx, dropped
 * connections, slow answers, messages delivered twice).
 */
final class SenderIdentityProxy implements AutoCloseable {
    private static final Pattern ACCESS_KEY = Pattern.compile("Credential=([A-Za-z0-9]+)/");
    private static final Pattern MESSAGE_ID =
            Pattern.compile("\"MessageId\"\\s*:\\s*\"([^\"]+)\"|<MessageId>([^<]+)</MessageId>");
    private static final Set<String> HOP_BY_HOP =
            Set.of("connection", "content-length", "host", "transfer-encoding", "expect", "upgrade", "keep-alive");
    private static final int REMEMBERED = 200_000;
    private static final int LOOKUP_ATTEMPTS = 12;
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String FAULTS_PATH = "/_localaws/faults";
    private static final SqsFaults.Decision NO_FAULT = new SqsFaults.Decision(0, SqsFaults.Fault.NONE, 200, "");

    private final HttpServer server;
    private final ExecutorService workers = Executors.newFixedThreadPool(32, r -> {
        Thread t = new Thread(r, "sqs-proxy");
        t.setDaemon(true);
        return t;
    });
    // its own threads: sharing the server's would let blocked handlers starve the client's response handling
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI backend;
    private final URI identityEndpoint;
    private final String region;
    private final Map<String, String> principalOfKey = new ConcurrentHashMap<>();
    private final SqsFaults faults = new SqsFaults();
    /** A long poll can hand a message out before its send's answer has come back through here. */
    private final AtomicInteger sendsInFlight = new AtomicInteger();
    /** message id → sender principal, the newest {@value REMEMBERED} messages. */
    private final Map<String, String> senderOfMessage =
            Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > REMEMBERED;
                }
            });

    SenderIdentityProxy(int port, URI backend, URI identityEndpoint, String region) throws IOException {
        this.backend = backend;
        this.identityEndpoint = identityEndpoint;
        this.region = region;
        // without TCP_NODELAY, headers and body leave in two segments and the second waits out the
        // client's delayed ACK (~40 ms per request): measured 7x slower
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 512);
        server.setExecutor(workers);
        server.createContext("/", this::forward);
        loadFaultsFromLocalAws();
        server.start();
    }

    private void forward(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            if (ex.getRequestURI().getPath().startsWith(FAULTS_PATH)) {
                faultsControl(ex, body);
                return;
            }
            String action = action(ex, body);
            boolean json = ex.getRequestHeaders().getFirst("X-Amz-Target") != null;
            SqsFaults.Decision fault = faults.active() ? faults.decide(action) : NO_FAULT;
            if (fault.delayMillis() > 0) LockSupport.parkNanos(fault.delayMillis() * 1_000_000L);
            switch (fault.fault()) {
                case THROTTLE, OVER_LIMIT, ERROR -> {
                    sendError(ex, json, fault.status(), fault.code());
                    return;
                }
                default -> {
                    // forwarded below; a reset or duplicate acts on ElasticMQ's answer
                }
            }
            HttpRequest.Builder req = HttpRequest.newBuilder(
                            backend.resolve(ex.getRequestURI().toString()))
                    .method(
                            ex.getRequestMethod(),
                            body.length == 0
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase())) values.forEach(v -> req.header(name, v));
            });
            boolean sending = action.startsWith("SendMessage");
            // resolved before the message exists: a consumer may receive it the moment ElasticMQ has it
            Optional<String> sender = sending ? sender(ex) : Optional.empty();
            if (sending) sendsInFlight.incrementAndGet();
            HttpResponse<byte[]> resp;
            try {
                resp = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
                if (sender.isPresent() && resp.statusCode() == 200) remember(sender.get(), resp.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(503, -1);
                return;
            } finally {
                if (sending) sendsInFlight.decrementAndGet();
            }
            byte[] out = resp.body();
            if (resp.statusCode() == 200 && action.equals("ReceiveMessage")) {
                out = withSenders(new String(out, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                if (fault.fault() == SqsFaults.Fault.DUPLICATE && json) deliverAgain(body, out);
            }
            resp.headers().map().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase()) && !name.startsWith(":"))
                    ex.getResponseHeaders().put(name, values);
            });
            if (fault.fault() == SqsFaults.Fault.RESET) {
                // ElasticMQ has acted (a message sent, received or deleted); the caller never hears of it
                if (out.length > 0) {
                    ex.sendResponseHeaders(resp.statusCode(), out.length);
                    OutputStream os = ex.getResponseBody();
                    os.write(out, 0, out.length / 2);
                    os.flush();
                }
                throw new IOException("connection dropped mid-response (injected by /_localaws/faults)");
            }
            ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        }
    }

    /** GET, POST (the local AWS passes on its faults body) and DELETE /_localaws/faults. */
    private void faultsControl(HttpExchange ex, byte[] body) throws IOException {
        switch (ex.getRequestMethod()) {
            case "POST" -> faults.load(JSON.readTree(body.length == 0 ? "{}".getBytes(StandardCharsets.UTF_8) : body));
            case "DELETE" -> faults.load(JSON.createObjectNode());
            default -> {
                // GET: the current rules and counts
            }
        }
        byte[] out = JSON.writeValueAsBytes(faults.snapshot());
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    /** The rules in force when this proxy starts (a faults file given to the local AWS). */
    private void loadFaultsFromLocalAws() {
        try {
            HttpResponse<byte[]> r = http.send(
                    HttpRequest.newBuilder(identityEndpoint.resolve(FAULTS_PATH))
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 200) faults.load(JSON.readTree(r.body()));
        } catch (IOException e) {
            // no local AWS answering: no faults
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An SQS error in the caller's protocol (JSON: AWS query-compatible error code header). */
    private static void sendError(HttpExchange ex, boolean json, int status, String code) throws IOException {
        String message = "injected by /_localaws/faults: " + code;
        String requestId = UUID.randomUUID().toString();
        byte[] out;
        if (json) {
            ObjectNode error = JSON.createObjectNode();
            error.put("__type", "com.amazonaws.sqs#" + code);
            error.put("message", message);
            out = JSON.writeValueAsBytes(error);
            ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
            ex.getResponseHeaders().set("x-amzn-query-error", code + ";" + (status >= 500 ? "Receiver" : "Sender"));
        } else {
            out = ("<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error><Type>"
                            + (status >= 500 ? "Receiver" : "Sender") + "</Type><Code>" + code + "</Code><Message>"
                            + message + "</Message><Detail/></Error><RequestId>" + requestId
                            + "</RequestId></ErrorResponse>")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/xml");
        }
        ex.getResponseHeaders().set("x-amzn-RequestId", requestId);
        ex.sendResponseHeaders(status, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    /**
     * Sends each received message to its queue once more (body, attributes and sender kept), so it
     * is delivered twice, as an at-least-once producer such as EventBridge may deliver it.
     */
    private void deliverAgain(byte[] request, byte[] answer) throws IOException {
        String queueUrl = JSON.readTree(request).path("QueueUrl").asText();
        for (JsonNode m : JSON.readTree(answer).path("Messages")) {
            ObjectNode send = JSON.createObjectNode();
            send.put("QueueUrl", queueUrl);
            send.put("MessageBody", m.path("Body").asText());
            if (m.has("MessageAttributes")) send.set("MessageAttributes", m.get("MessageAttributes"));
            try {
                HttpResponse<byte[]> r = http.send(
                        HttpRequest.newBuilder(backend.resolve("/"))
                                .header("Content-Type", "application/x-amz-json-1.0")
                                .header("X-Amz-Target", "AmazonSQS.SendMessage")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(send)))
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                String sender = senderOfMessage.get(m.path("MessageId").asText());
                String copy = JSON.readTree(r.body()).path("MessageId").asText();
                if (sender != null && !copy.isEmpty()) senderOfMessage.put(copy, sender);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** JSON protocol names the action in X-Amz-Target, the query protocol in the form body. */
    private static String action(HttpExchange ex, byte[] body) {
        String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
        if (target != null) return target.substring(target.indexOf('.') + 1);
        Matcher m = Pattern.compile("(?:^|&)Action=([A-Za-z]+)")
                .matcher(new String(body, 0, Math.min(body.length, 4096), StandardCharsets.UTF_8));
        return m.find() ? m.group(1) : "";
    }

    /** The principal id of the request's signer (the access key in its Authorization header). */
    private Optional<String> sender(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null) return Optional.empty();
        Matcher key = ACCESS_KEY.matcher(auth);
        return key.find() ? principal(key.group(1)) : Optional.empty();
    }

    private void remember(String principal, byte[] sendResponse) {
        Matcher ids = MESSAGE_ID.matcher(new String(sendResponse, StandardCharsets.UTF_8));
        while (ids.find()) senderOfMessage.put(ids.group(1) != null ? ids.group(1) : ids.group(2), principal);
    }

    /**
     * The caller's principal id as the local AWS's STS reports it (signatures are not checked there).
     * Real SQS never fails to name a sender, so the lookup rides out faults injected into the local
     * AWS (throttling, 5xx) with many attempts: a missing sender would reject an emergency request.
     */
    private Optional<String> principal(String accessKey) {
        String known = principalOfKey.get(accessKey);
        if (known != null) return Optional.of(known);
        try (StsClient sts = StsClient.builder()
                .endpointOverride(identityEndpoint)
                .region(Region.of(region))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(LOOKUP_ATTEMPTS)
                        .build()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(accessKey, "local-identity-lookup")))
                .build()) {
            String id = sts.getCallerIdentity().userId();
            principalOfKey.put(accessKey, id);
            return Optional.of(id);
        } catch (RuntimeException e) {
            return Optional.empty(); // the message still goes through, with ElasticMQ's own SenderId
        }
    }

    /** The remembered sender; while sends are still on their way back, waits for it briefly. */
    private String senderOf(String messageId) {
        long deadline = System.nanoTime() + 500_000_000L;
        while (true) {
            String sender = senderOfMessage.get(messageId);
            if (sender != null || sendsInFlight.get() == 0 || System.nanoTime() > deadline) return sender;
            LockSupport.parkNanos(2_000_000);
        }
    }

    /** Rewrites each returned message's SenderId to its remembered sender (JSON or XML answer). */
    String withSenders(String response) {
        if (!response.contains("SenderId")) return response;
        if (!response.startsWith("<")) {
            try {
                JsonNode root = JSON.readTree(response);
                for (JsonNode m : root.path("Messages")) {
                    String sender = senderOf(m.path("MessageId").asText());
                    if (sender != null && m.path("Attributes").has("SenderId")) {
                        ((ObjectNode) m.get("Attributes")).put("SenderId", sender);
                    }
                }
                return JSON.writeValueAsString(root);
            } catch (JsonProcessingException e) {
                return response;
            }
        }
        StringBuilder out = new StringBuilder(response.length());
        for (String part : response.split("(?=<Message>)")) {
            Matcher id = MESSAGE_ID.matcher(part);
            String sender = id.find() ? senderOf(id.group(1) != null ? id.group(1) : id.group(2)) : null;
            out.append(
                    sender == null
                            ? part
                            : part.replaceFirst(
                                    "<Name>SenderId</Name>\\s*<Value>[^<]*</Value>",
                                    "<Name>SenderId</Name><Value>" + Matcher.quoteReplacement(sender) + "</Value>"));
        }
        return out.toString();
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
