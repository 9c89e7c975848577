package jllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the jllm command line. Each subcommand lives in its own class in this package. */
@Command(name = "jllm", mixinStandardHelpOptions = true, version = "jllm 0.1.0",
        description = "Run, inspect, debug and fine-tune Llama-family language models in pure Java.")
public final class Main implements Runnable {

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // One line per top-level command; keep this list in the order `jllm --help` shows them.
        cl.addSubcommand(new GenerateCommand());
        cl.addSubcommand(new ChatCommand());
        cl.addSubcommand(new DoctorCommand());
        cl.addSubcommand(new ConvertCommand());
        cl.addSubcommand(new QuantizeCommand());
        cl.addSubcommand(new InitCommand());
        cl.addSubcommand(new TemplateCommand());
        cl.addSubcommand(new BenchCommand());
        cl.addSubcommand(new TokenizeCommand());
        cl.addSubcommand(new DecodeCommand());
        cl.addSubcommand(new TokenizerCommand());
        cl.addSubcommand(new TrainCommand());
        cl.addSubcommand(new FinetuneCommand());
        cl.addSubcommand(new PredictCommand());
        cl.addSubcommand(new MergeCommand());
        cl.addSubcommand(new ExportCommand());
        cl.setExecutionExceptionHandler(Main::handleError);
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** User-facing failures (bad files, bad arguments) print one clear line, not a stack trace. */
    private static int handleError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        cl.getErr().println("error: " + msg);
        if (System.getenv("JLLM_DEBUG") != null) e.printStackTrace(cl.getErr());
        return 2;
    }
}
