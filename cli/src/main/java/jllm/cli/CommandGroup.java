package jllm.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * A command that only groups subcommands ({@code doctor}, {@code template}, {@code tokenizer}): called
 * without one it is a usage error, like {@code jllm} alone: the usage goes to stderr, then a one-line {@code error:} naming the subcommands, and the status is 2.
 */
abstract class CommandGroup implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        spec.commandLine().usage(err);
        // The last line is the one-line error every other usage mistake ends with.
        err.println("error: `" + spec.qualifiedName(" ") + "` needs a subcommand: "
                + String.join(", ", spec.subcommands().keySet().stream().filter(n -> !n.equals("help")).toList()));
        err.flush();
        return Main.BAD_INPUT;
    }
}
