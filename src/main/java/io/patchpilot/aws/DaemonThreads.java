package io.patchpilot.aws;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for the service's own timers and workers (they never keep the JVM alive). */
public final class DaemonThreads {
    private DaemonThreads() {}

    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
