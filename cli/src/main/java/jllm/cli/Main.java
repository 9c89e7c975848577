package jllm.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the jllm command line. Each subcommand lives in its own class in this package. */
@Command(name = "jllm", mixinStandardHelpOptions = true, version = "jllm 0.1.0",
        description = "Run, inspect, debug and fine-tune Llama-family language models in pure Java.")
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** Exit status of every failure caused by the user's input (flags, files): one line {@code error: ...} on stderr. */
    static final int BAD_INPUT = 2;

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
        cl.setParameterExceptionHandler(Main::handleParameterError);
        cl.registerConverter(Path.class, Main::path);
        return cl;
    }

    public static void main(String[] args) {
        utf8Streams();
        int code;
        try {
            code = commandLine().execute(utf8Args(args));
        } catch (Throwable t) {
            // Errors picocli does not catch (out of memory, stack overflow) still end in one line.
            System.err.println("error: " + describe(t));
            if (System.getenv("JLLM_DEBUG") != null) t.printStackTrace();
            code = BAD_INPUT;
        }
        System.out.flush();
        System.exit(code);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@code jllm} alone is a usage error: the usage goes to stderr and the status is 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return BAD_INPUT;
    }

    /** User-facing failures (bad files, bad arguments) print one clear line, not a stack trace. */
    private static int handleError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        Progress.done();
        cl.getErr().println("error: " + describe(e));
        if (System.getenv("JLLM_DEBUG") != null) e.printStackTrace(cl.getErr());
        cl.getErr().flush();
        return BAD_INPUT;
    }

    /** A path flag: an empty one would silently mean the current directory. */
    private static Path path(String s) {
        if (s.isEmpty()) throw new CommandLine.TypeConversionException("empty path");
        try {
            return Path.of(s);
        } catch (java.nio.file.InvalidPathException e) {
            throw new CommandLine.TypeConversionException("not a valid path: " + e.getReason());
        }
    }

    /** A flag picocli could not parse: one line naming it, and where to read about it. */
    private static int handleParameterError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String msg = oneLine(e.getMessage());
        if (msg.startsWith("Error: ")) msg = msg.substring(7);
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty())
            msg += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        cl.getErr().println("error: " + msg + " (see 'jllm " + qualifiedName(cl) + " --help')");
        cl.getErr().flush();
        return BAD_INPUT;
    }

    private static String qualifiedName(CommandLine cl) {
        String q = cl.getCommandSpec().qualifiedName(" ");
        return q.startsWith("jllm ") ? q.substring(5) : q.equals("jllm") ? "" : q;
    }

    /**
     * The message of a failure as the user should read it. Exceptions that describe bad input carry
     * their own message (naming the file or flag); anything else is a bug in jllm and says so.
     */
    static String describe(Throwable t) {
        if (t instanceof CommandLine.ExecutionException && t.getCause() != null) t = t.getCause();
        if (t instanceof UncheckedIOException u) t = u.getCause();
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + oneLine(t.getMessage()) + "); give the JVM more with JLLM_JAVA_OPTS=-Xmx... or use a smaller model or context";
        }
        if (t instanceof StackOverflowError) return "input nested too deeply (stack overflow)";
        if (t instanceof IOException io) return OutputFile.describe(io);
        String m = t.getMessage();
        boolean userFacing = t instanceof FormatException || t instanceof IllegalArgumentException
                || t instanceof UnsupportedOperationException || t instanceof jllm.template.TemplateException;
        if (userFacing && m != null && !m.isBlank()) return oneLine(m);
        return "internal error, please report it (JLLM_DEBUG=1 prints the stack trace): " + t.getClass().getName()
                + (m == null ? "" : ": " + oneLine(m));
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        String t = s.strip();
        int nl = t.indexOf('\n');
        return (nl < 0 ? t : t.substring(0, nl)).strip();
    }

    /** stdout and stderr carry UTF-8 whatever the locale (the launcher also asks the JVM for it). */
    private static void utf8Streams() {
        if (!StandardCharsets.UTF_8.equals(System.out.charset()))
            System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
        if (!StandardCharsets.UTF_8.equals(System.err.charset()))
            System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    }

    /**
     * Arguments are UTF-8. The JVM decodes argv with the locale's charset ({@code sun.jnu.encoding},
     * which cannot be overridden) and replaces what it cannot decode; so on Linux the raw bytes are
     * read again from {@code /proc/self/cmdline}: under a non-UTF-8 locale (LANG unset = ASCII) they
     * give back the non-ASCII characters, and an argument that is not valid UTF-8 is an error instead
     * of silently becoming U+FFFD.
     */
    static String[] utf8Args(String[] args) {
        List<byte[]> raw = rawArgs(args.length);
        if (raw == null) return args;
        String[] out = new String[args.length];
        // Only trust the re-read when it lines up with what the JVM gave us (same ASCII characters).
        for (int i = 0; i < args.length; i++) {
            out[i] = new String(raw.get(i), StandardCharsets.UTF_8);
            if (!sameAscii(args[i], out[i])) return args;
        }
        for (int i = 0; i < args.length; i++) {
            try {
                StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(raw.get(i)));
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException("argument " + (i + 1) + " ('" + out[i] + "') is not valid UTF-8");
            }
        }
        return isUtf8(System.getProperty("sun.jnu.encoding", "UTF-8")) ? args : out;
    }

    /** The last {@code n} entries of /proc/self/cmdline, or null where there is none. */
    private static List<byte[]> rawArgs(int n) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
        List<byte[]> all = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                all.add(java.util.Arrays.copyOfRange(raw, start, i));
                start = i + 1;
            }
        }
        return all.size() < n ? null : all.subList(all.size() - n, all.size());
    }

    private static boolean isUtf8(String charset) {
        try {
            return Charset.forName(charset).equals(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean sameAscii(String decoded, String utf8) {
        StringBuilder a = new StringBuilder(), b = new StringBuilder();
        decoded.chars().filter(c -> c < 0x80 && c != '?').forEach(a::append);
        utf8.chars().filter(c -> c < 0x80 && c != '?').forEach(b::append);
        return a.toString().contentEquals(b);
    }
}
