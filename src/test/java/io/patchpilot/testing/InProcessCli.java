package io.patchpilot.testing;

import io.patchpilot.cli.PatchpilotCli;
import io.patchpilot.local.LocalMode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a patchpilot command in this JVM against a running local mode, capturing its output. */
public final class InProcessCli {
    private InProcessCli() {}

    public record Result(int exit, String out, String err) {}

    public static synchronized Result run(LocalMode local, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 3];
            System.arraycopy(args, 0, all, 0, args.length);
            all[args.length] = "--local";
            all[args.length + 1] = "--aws-port";
            all[args.length + 2] = Integer.toString(local.localAws().endpoint().getPort());
            int exit = PatchpilotCli.execute(all);
            // the service logs to stderr too (same JVM): keep the CLI's own lines
            String cliErr = String.join(
                    "\n",
                    err.toString(StandardCharsets.UTF_8)
                            .lines()
                            .filter(l -> l.startsWith("patchpilot:"))
                            .toList());
            return new Result(exit, out.toString(StandardCharsets.UTF_8), cliErr);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
