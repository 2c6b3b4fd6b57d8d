package io.patchpilot.cli;

import java.nio.file.Path;

/** The project directory that holds {@code config/}, {@code routes/} and {@code deploy/}. */
final class Home {
    private Home() {}

    static Path resolve() {
        String fromEnv = System.getenv("PATCHPILOT_HOME");
        String configured = System.getProperty("patchpilot.home", fromEnv == null ? "" : fromEnv);
        return (configured.isBlank() ? Path.of("") : Path.of(configured))
                .toAbsolutePath()
                .normalize();
    }
}
