package io.patchpilot.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchpilot.config.ConfigException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The local AWS: moto's server extended by {@code deploy/local/localaws.py} on the AWS port
 * and ElasticMQ for SQS on the next port, both on 127.0.0.1, each its own process, stopped by
 * their own PIDs on {@link #close()}.
 */
public final class LocalAws implements AutoCloseable {
    public static final String HUB_ACCOUNT = "123456789012";
    public static final String HUB_REGION = "us-east-1";
    // ~2 s on an idle machine; a shared CI machine under a full test suite has taken over 40 s
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private static final Optional<Path> SETSID = Stream.of("/usr/bin/setsid", "/bin/setsid")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst();

    /** Where, in a state directory, the moto launcher keeps its state and ElasticMQ its queues. */
    public static final String AWS_STATE = "aws";

    public static final String SQS_STATE = "sqs";

    private final Path home;
    private final int awsPort;
    private final List<String> launcherOptions;
    private final Path stateDir;
    private final List<Process> processes = new ArrayList<>();
    private final LocalAwsControl control;

    private LocalAws(Path home, int awsPort, List<String> launcherOptions, Path stateDir) {
        this.home = home;
        this.awsPort = awsPort;
        this.launcherOptions = List.copyOf(launcherOptions);
        this.stateDir = stateDir;
        this.control = new LocalAwsControl(endpoint());
    }

    /** Options for the moto launcher, e.g. {@code --command-delay 0.5}; nothing kept across a stop. */
    public static LocalAws start(Path home, int awsPort, List<String> launcherOptions) {
        return start(home, awsPort, launcherOptions, null);
    }

    /**
     * With a state directory (null: none), the local AWS restores its state from there at start and
     * saves it at a clean stop (and every few seconds while serving), ElasticMQ its queues and messages.
     */
    public static LocalAws start(Path home, int awsPort, List<String> launcherOptions, Path stateDir) {
        LocalAws aws = new LocalAws(home, awsPort, launcherOptions, stateDir);
        aws.launch();
        return aws;
    }

    /** The state directory given at start, if any. */
    public Optional<Path> stateDir() {
        return Optional.ofNullable(stateDir);
    }

    /**
     * Starts the local AWS again after {@link #close()} on the same ports, with the state it saved
     * at that stop when it has a state directory (tests: the local AWS stopped and started under a
     * running service).
     */
    public void startAgain() {
        if (!processes.isEmpty()) throw new IllegalStateException("the local AWS is running");
        launch();
    }

    private void launch() {
        LocalAws aws = this;
        requireFree(awsPort);
        requireFree(awsPort + 1);
        CompletableFuture<Void> motoReady = null;
        CompletableFuture<Void> sqsReady = null;
        try {
            Path launcher = home.resolve("deploy/local/localaws.py");
            if (!Files.isRegularFile(launcher)) throw new ConfigException(launcher + ": local AWS launcher not found");
            List<String> moto = new ArrayList<>(List.of(
                    python(),
                    launcher.toString(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    Integer.toString(awsPort),
                    "--sqs-endpoint",
                    aws.sqsEndpoint().toString(),
                    "--parent-pid",
                    Long.toString(ProcessHandle.current().pid()),
                    // member roles come from the member StackSet: a missing role or wrong ExternalId is refused, as by
                    // STS
                    "--strict-assume-role"));
            moto.addAll(launcherOptions);
            if (stateDir != null)
                moto.addAll(List.of("--state-dir", stateDir.resolve(AWS_STATE).toString()));
            motoReady = aws.spawn("localaws", moto, "localaws ready");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> elasticMq = new ArrayList<>(List.of(
                    java,
                    "-Xmx256m",
                    "-XX:+UseSerialGC",
                    "-cp",
                    System.getProperty("java.class.path"),
                    ElasticMqMain.class.getName(),
                    Integer.toString(awsPort + 1),
                    HUB_ACCOUNT,
                    HUB_REGION,
                    Long.toString(ProcessHandle.current().pid()),
                    aws.endpoint().toString()));
            if (stateDir != null) elasticMq.add(stateDir.resolve(SQS_STATE).toString());
            sqsReady = aws.spawn("elasticmq", elasticMq, "elasticmq ready");
            CompletableFuture.allOf(motoReady, sqsReady).get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            aws.close();
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            throw new IllegalStateException(cause.getMessage(), cause);
        } catch (TimeoutException e) {
            aws.close();
            // which of the two is not ready: the first thing to know when a start times out
            String waiting = (motoReady != null && motoReady.isDone() ? "" : "localaws (moto) ")
                    + (sqsReady != null && sqsReady.isDone() ? "" : "elasticmq (SQS) ");
            throw new IllegalStateException(
                    "local AWS did not start within " + START_TIMEOUT.toSeconds() + " s; not ready: " + waiting.trim());
        } catch (InterruptedException e) {
            aws.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the local AWS");
        } catch (RuntimeException e) {
            aws.close();
            throw e;
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + awsPort);
    }

    public URI sqsEndpoint() {
        return URI.create("http://127.0.0.1:" + (awsPort + 1));
    }

    public LocalAwsControl control() {
        return control;
    }

    /**
     * Where the local Athena's Trino server listens, once it is up (launched with {@code --report-engine
     * athena}, it starts beside the local AWS; the first start downloads and unpacks it, minutes).
     */
    public URI athenaEngine(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode status = control.get("athena");
            if (status.path("trino").isTextual())
                return URI.create(status.path("trino").asText());
            if (status.path("error").isTextual())
                throw new IllegalStateException(
                        "local Athena: " + status.path("error").asText());
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(
                        "local Athena: Trino did not start within " + timeout.toSeconds() + " s");
            TimeUnit.MILLISECONDS.sleep(500);
        }
    }

    public List<Long> pids() {
        return processes.stream().map(Process::pid).toList();
    }

    /** Fails with one line when a port on 127.0.0.1 is taken (another local mode running?). */
    public static void requireFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new PortInUseException(port);
        }
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A free port whose successor is free too (the local SQS listens on AWS port + 1). */
    public static int freePortPair() {
        for (int i = 0; i < 50; i++) {
            int p = freePort();
            try {
                requireFree(p + 1);
                return p;
            } catch (PortInUseException e) {
                // try another
            }
        }
        throw new IllegalStateException("no two consecutive free ports on 127.0.0.1");
    }

    private static String python() {
        String configured = System.getenv("PATCHPILOT_PYTHON");
        return configured != null && !configured.isBlank() ? configured : "python3";
    }

    /**
     * The command run through {@code setsid} where there is one: a terminal's Ctrl-C (SIGINT to the
     * whole foreground process group) or a SIGTERM to the group then reaches local mode alone, which
     * stops the service's consumers before it stops these processes by their PIDs. Without it, the
     * local AWS died first and every consumer logged {@code Error while polling} during a clean stop.
     */
    static List<String> inSessionOfItsOwn(List<String> command) {
        return SETSID.stream()
                .map(setsid -> {
                    List<String> out = new ArrayList<>(List.of(setsid.toString()));
                    out.addAll(command);
                    return out;
                })
                .findFirst()
                .orElse(command);
    }

    private CompletableFuture<Void> spawn(String name, List<String> command, String readyLine) {
        Process p;
        try {
            p = new ProcessBuilder(inSessionOfItsOwn(command))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot start '" + command.get(0) + "' (" + e.getMessage()
                    + "); local mode needs python3 with moto[server] (pip install 'moto[server]')");
        }
        processes.add(p);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(
                () -> {
                    List<String> tail = new ArrayList<>();
                    try (BufferedReader r =
                            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = r.readLine()) != null) {
                            if (!ready.isDone()) {
                                if (line.startsWith(readyLine)) {
                                    ready.complete(null);
                                } else {
                                    tail.add(line);
                                    if (tail.size() > 20) tail.remove(0);
                                }
                            } else if (Boolean.getBoolean("patchpilot.local.verbose")) {
                                System.err.println("[" + name + "] " + line);
                            }
                        }
                    } catch (IOException e) {
                        // the process ended; handled below
                    }
                    if (!ready.isDone()) {
                        String last = tail.isEmpty() ? "no output" : tail.get(tail.size() - 1);
                        ready.completeExceptionally(
                                new IllegalStateException(name + " exited before it was ready: " + last));
                    }
                },
                name + "-output");
        reader.setDaemon(true);
        reader.start();
        return ready;
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : processes) {
            try {
                // a clean stop saves the state first: seconds for a large fleet on a busy machine
                if (!p.waitFor(stateDir == null ? 10 : 60, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        processes.clear();
    }

    /** A port on 127.0.0.1 is already taken. */
    public static final class PortInUseException extends RuntimeException {
        public PortInUseException(int port) {
            super("port " + port + " on 127.0.0.1 is in use (is another 'patchpilot local' running?)");
        }
    }
}
