package io.patchpilot.console;

import java.io.PrintStream;

/**
 * Shows the progress of long work: on a terminal one line redrawn in place (a bar), in a pipe or
 * CI a plain line whenever it changed. Used by every {@code --follow}, {@code patchpilot local}'s
 * start-up and {@code patchpilot bench}.
 */
public final class ProgressPrinter {
    static final int WIDTH = 20;

    private final PrintStream out;
    private final boolean terminal;
    private int drawn;
    private String last;

    public ProgressPrinter(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** A bar when the process has a terminal, plain lines otherwise. */
    public static ProgressPrinter console(PrintStream out) {
        return new ProgressPrinter(out, System.console() != null);
    }

    /** Draws the progress: the bar in place of the last one, or a line when it differs from the last line. */
    public void show(Progress p) {
        if (terminal) {
            String b = bar(p);
            out.print("\r" + b + " ".repeat(Math.max(0, drawn - b.length())));
            drawn = b.length();
            if (p.ended()) {
                out.println();
                drawn = 0;
            }
            out.flush();
        } else {
            String l = line(p);
            if (!l.equals(last)) out.println(l);
            last = l;
        }
    }

    /** The live line: {@code [#####...............] 1/4 account-regions · 3 patched · 0 failed · Running}. */
    public static String bar(Progress p) {
        long done = Math.min(p.done(), p.total());
        int filled = p.total() == 0 ? (p.ended() ? WIDTH : 0) : (int) (WIDTH * done / p.total());
        return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + counts(p) + " · " + p.status();
    }

    /** The plain line: {@code Running: 1/4 account-regions · 3 patched · 0 failed}. */
    public static String line(Progress p) {
        return p.status() + ": " + counts(p);
    }

    private static String counts(Progress p) {
        String s = Math.min(p.done(), p.total()) + "/" + p.total() + " " + p.unit();
        if (p.patched() >= 0) s += " · " + p.patched() + " patched";
        if (p.failed() >= 0) s += " · " + p.failed() + " failed";
        if (p.reports() >= 0) s += " · " + p.reports() + " reports written";
        return s;
    }
}
