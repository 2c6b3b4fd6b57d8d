package io.patchpilot.cli;

/** What patchpilot's exit codes mean; the README lists them. */
public final class ExitCode {
    public static final int OK = 0;
    /** Unexpected failure (a bug or AWS unreachable): the message says which. */
    public static final int FAILED = 1;
    /** Wrong command-line usage (picocli's own code). */
    public static final int USAGE = 2;
    /** A missing or invalid setting, or a bad input file: the one line names the key or line. */
    public static final int CONFIG = 3;
    /** The environment is not ready: a port is taken, python3/moto missing. */
    public static final int ENVIRONMENT = 4;

    private ExitCode() {}
}
