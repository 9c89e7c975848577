package jllm.cli;

import java.util.function.Consumer;

/** One-line progress on stderr (overwritten in place on a terminal, one line per step otherwise). */
final class Progress {
    private Progress() {}

    private static volatile boolean open;

    private static boolean tty() {
        var c = System.console();
        return c != null && c.isTerminal();
    }

    static Consumer<String> stderr(String what) {
        boolean tty = tty();
        return msg -> {
            if (tty) {
                System.err.print("\r\033[K" + what + " " + msg);
                open = true;
            } else {
                System.err.println(what + " " + msg);
            }
        };
    }

    /** Ends an in-place progress line so the next message starts on a line of its own. */
    static void done() {
        if (open) {
            System.err.println();
            open = false;
        }
    }
}
