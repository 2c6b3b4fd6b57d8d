package io.patchpilot.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;

/**
 * Runs until SIGTERM/SIGINT, then closes what was opened in reverse order (the service first,
 * so in-flight messages finish, then the local AWS processes).
 */
final class ServiceRunner {
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    <T extends AutoCloseable> T open(T resource) {
        opened.push(resource);
        return resource;
    }

    void closeAll() {
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                System.err.println("patchpilot: while stopping: " + e.getMessage());
            }
        }
    }

    int awaitShutdown() throws InterruptedException {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            System.err.println("patchpilot: stopping");
                            closeAll();
                            stopped.countDown();
                        },
                        "patchpilot-shutdown"));
        stopped.await();
        return ExitCode.OK;
    }
}
