package jllm.cli;

import java.util.function.Consumer;

/** One-line progress on stderr (overwritten in place on a terminal, one line per step otherwise). */
final class Progress {
    private Progress() {}

    static Consumer<String> stderr(String what) {
        boolean tty = System.console() != null;
        return msg -> {
            if (tty) System.err.print("\r\033[K" + what + " " + msg);
            else System.err.println(what + " " + msg);
        };
    }
}
