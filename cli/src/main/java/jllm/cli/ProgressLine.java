package jllm.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A live progress line on stderr for long commands (finetune, train, predict). On a terminal it is
 * redrawn in place a few times a second; without one (a log file, CI, a pipe) it prints a whole line
 * at most every {@link #QUIET_SECONDS} seconds, so a log stays readable. Written here rather than with
 * a progress-bar library: those draw bars for terminals and need extra dependencies, while what we
 * show is one line of figures that has to work in logs too.
 */
final class ProgressLine {
    static final int QUIET_SECONDS = 10;
    private final PrintStream err;
    private final boolean tty;
    private final long everyNanos;
    private long last = Long.MIN_VALUE;
    private boolean drawn;

    ProgressLine() { this(System.err, isTerminal()); }

    ProgressLine(PrintStream err, boolean tty) {
        this.err = err;
        this.tty = tty;
        this.everyNanos = tty ? 200_000_000L : QUIET_SECONDS * 1_000_000_000L;
    }

    static boolean isTerminal() {
        var c = System.console();
        return c != null && c.isTerminal();
    }

    /** Shows {@code line} unless one was shown moments ago ({@code force}: always). */
    synchronized void update(String line, boolean force) {
        long now = System.nanoTime();
        if (!force && last != Long.MIN_VALUE && now - last < everyNanos) return;
        last = now;
        if (tty) {
            err.print("\r\033[K" + line);
            drawn = true;
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** Prints a line that stays (a message between progress updates). */
    synchronized void println(String line) {
        if (tty && drawn) err.print("\r\033[K");
        drawn = false;
        err.println(line);
        err.flush();
    }

    /** Ends the live line (the last update stays on screen). */
    synchronized void finish() {
        if (tty && drawn) err.println();
        drawn = false;
    }

    /** {@code 1h02m}, {@code 3m05s}, {@code 12s}. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}
