package io.patchpilot.testing;

import static org.awaitility.Awaitility.await;

import io.patchpilot.local.LocalAws;
import io.patchpilot.local.LocalMode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The service ({@code patchpilot run --profile local}) in a JVM of its own, pointed at a local AWS
 * started by the test, so the test can kill it (SIGKILL) and start another. Output goes to a log
 * file under target/.
 */
public final class ServiceProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final int httpPort;

    private ServiceProcess(Process process, Path log, int httpPort) {
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
    }

    public static ServiceProcess start(LocalMode local, String name, Map<String, String> env) throws IOException {
        int httpPort = LocalAws.freePort();
        Path log = Files.createDirectories(Path.of("target", "service-logs")).resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m",
                "-cp",
                System.getProperty("java.class.path"),
                "io.patchpilot.cli.PatchpilotCli",
                "run",
                "--profile",
                "local"));
        Map<String, String> e = pb.environment();
        e.put("PATCHPILOT_HOME", Path.of("").toAbsolutePath().toString());
        e.put("PATCHPILOT_AWS_ENDPOINT", local.localAws().endpoint().toString());
        e.put("PATCHPILOT_AWS_SQS_ENDPOINT", local.localAws().sqsEndpoint().toString());
        e.put("PATCHPILOT_HTTP_PORT", Integer.toString(httpPort));
        e.put("PATCHPILOT_MAIL_HOST", "127.0.0.1");
        e.put("PATCHPILOT_MAIL_PORT", Integer.toString(local.mail().getSmtp().getPort()));
        e.put("PATCHPILOT_MAIL_STARTTLS", "false");
        e.put("PATCHPILOT_NOTIFY_OUTBOX", local.outbox().toString());
        e.putAll(env);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        ServiceProcess p = new ServiceProcess(pb.start(), log, httpPort);
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        // 60 s was too short for a JVM started while the shared CI machine ran at a load average of 40+
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    if (!p.process.isAlive())
                        throw new IllegalStateException(name + " exited " + p.process.exitValue() + "; see " + log);
                    try {
                        return http.send(
                                                HttpRequest.newBuilder(
                                                                URI.create("http://127.0.0.1:" + httpPort + "/health"))
                                                        .build(),
                                                HttpResponse.BodyHandlers.discarding())
                                        .statusCode()
                                == 200;
                    } catch (IOException notYet) {
                        return false;
                    }
                });
        return p;
    }

    /** SIGKILL: no shutdown hook, no graceful stop; in-flight messages stay unacknowledged. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    public int httpPort() {
        return httpPort;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
        }
    }
}
