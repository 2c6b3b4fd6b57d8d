package io.patchpilot.cli;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** What patchpilot's exit codes mean; docs/commands.md lists them (from {@link #MEANINGS}). */
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

    /** Each code with what it means, as the command reference (docs/commands.md) prints it. */
    public static final SortedMap<Integer, String> MEANINGS = Collections.unmodifiableSortedMap(new TreeMap<>(Map.of(
            OK, "ok; with --follow: the work succeeded",
            FAILED,
                    "failed: unexpected (a bug or AWS unreachable; the message says which); with --follow: the work"
                            + " ended otherwise (failures, Blocked, Rejected, Expired) or did not start within 2 minutes",
            USAGE, "wrong command-line usage (picocli's own code)",
            CONFIG, "a missing or invalid setting, or a bad input file: one line names the key, or file:line and key",
            ENVIRONMENT, "the environment is not ready: a port is taken, python3/moto missing")));

    private ExitCode() {}
}
