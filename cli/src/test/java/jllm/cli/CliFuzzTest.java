package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Fuzzes every command's flags with random and extreme values: huge, negative, NaN and infinite numbers,
 * empty and odd strings, paths to devices, FIFOs, directories, missing and garbage files, unknown
 * enum values. The commands and their flags are read from picocli's model, so a new flag is fuzzed
 * without touching this test. Every run must finish (no hang), print no stack trace, and either
 * succeed or fail with exit 2 and one line {@code error: ...} that is not an internal error.
 *
 * <p>The default run is seeded and small (seconds); {@code -Djllm.fuzz.runs=N -Djllm.fuzz.seed=S}
 * runs more and prints the counts ({@code -Djllm.fuzz.messages=FILE} writes every distinct error
 * message there, for reading). Outputs only ever go to this test's temporary directory, and the
 * inputs are copies of the fixtures in it.
 */
class CliFuzzTest {
    static final int RUNS = Integer.getInteger("jllm.fuzz.runs", 150);
    static final long SEED = Long.getLong("jllm.fuzz.seed", 20260115L);
    static final long TIMEOUT_S = Long.getLong("jllm.fuzz.timeout", 120);

    @TempDir static Path tmp;
    static Path fixtures, gguf, chatModel, fifo, garbage, badUtf8, emptyFile, json, jinja, text;

    @BeforeAll
    static void files() throws Exception {
        // Copies of the fixtures the fuzzer uses: a flag that writes but is not known here as an output
        // (a new command's) can then only ever touch these copies, never the shared fixtures.
        fixtures = tmp.resolve("fx");
        for (String f : List.of("hf/llama3/config.json", "hf/llama3/generation_config.json", "hf/llama3/model.safetensors",
                "hf/llama3/reference.safetensors", "hf/qwen3/config.json", "hf/qwen3/generation_config.json", "hf/qwen3/model.safetensors",
                "tokenizers/llama3/tokenizer.json", "tokenizers/llama3/tokenizer_config.json", "tokenizers/llama2/tokenizer.json",
                "tokenizers/llama2/tokenizer_config.json", "tokenizers/corpus.jsonl", "llama2c/stories260K.bin", "llama2c/tokenizer.bin",
                "llama2c/tokenizer.model", "llamacpp/vocab/ggml-vocab-llama-spm.gguf", "chat-templates/hf-qwen3.jinja")) {
            Path src = CliTest.fixtures().resolve(f);
            if (!Files.exists(src)) continue;
            Files.createDirectories(fixtures.resolve(f).getParent());
            Files.copy(src, fixtures.resolve(f));
        }
        gguf = tmp.resolve("in.gguf");
        assertEquals(0, CliTest.run("convert", fixtures.resolve("hf/llama3").toString(), "--to", gguf.toString(), "--type", "q8_0").code());
        chatModel = ChatTest.tinyLlama3(Files.createDirectory(tmp.resolve("chat")));
        fifo = tmp.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        garbage = Files.write(tmp.resolve("garbage.bin"), new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, (byte) 0xff, (byte) 0xff, 1, 2, 3});
        badUtf8 = Files.write(tmp.resolve("bad.txt"), new byte[] {'{', '"', 'a', (byte) 0xC3, '"', ':', '1', '}', '\n'});
        emptyFile = Files.write(tmp.resolve("empty"), new byte[0]);
        json = Files.writeString(tmp.resolve("ctx.json"), "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"bos_token\": \"<s>\"}");
        jinja = Files.writeString(tmp.resolve("t.jinja"), "{% for m in messages %}{{ m.content | upper }}{% endfor %}");
        text = Files.writeString(tmp.resolve("t.jsonl"), "{\"text\": \"Hello naïve 😀\"}\n{\"text\": \"\"}\n");
    }

    /** Paths a flag reading input may get: real inputs of every kind, and every kind of wrong one. */
    static List<String> inputs(String flag) {
        List<String> common = new ArrayList<>(List.of("/dev/null", "/dev/zero", fifo.toString(), tmp.toString(), tmp.resolve("missing").toString(),
                garbage.toString(), badUtf8.toString(), emptyFile.toString(), ""));
        List<String> good = switch (flag) {
            case "--model", "hfDir", "in" -> List.of(fixtures.resolve("hf/llama3").toString(), fixtures.resolve("hf/qwen3").toString(),
                    fixtures.resolve("llama2c/stories260K.bin").toString(), gguf.toString(), chatModel.toString(), fixtures.resolve("tokenizers/llama3").toString());
            case "--tokenizer" -> List.of(fixtures.resolve("tokenizers/llama3").toString(), fixtures.resolve("tokenizers/llama2").toString(),
                    fixtures.resolve("llama2c/tokenizer.bin").toString(), fixtures.resolve("llama2c/tokenizer.model").toString(), gguf.toString(),
                    fixtures.resolve("llamacpp/vocab/ggml-vocab-llama-spm.gguf").toString());
            case "--reference" -> List.of(fixtures.resolve("hf/llama3/reference.safetensors").toString(), fixtures.resolve("hf/llama3/model.safetensors").toString());
            case "--context" -> List.of(json.toString(), fixtures.resolve("hf/llama3/config.json").toString());
            case "template", "--chat-template" -> List.of(jinja.toString(), fixtures.resolve("chat-templates/hf-qwen3.jinja").toString());
            case "--file", "--jsonl" -> List.of(text.toString(), fixtures.resolve("tokenizers/corpus.jsonl").toString());
            default -> List.of(json.toString());
        };
        for (int i = 0; i < 3; i++) common.addAll(good);   // mostly real inputs, so runs get past parsing
        return common;
    }

    /** Paths a flag writing output may get: never outside the temporary directory (and its FIFO stands in for a device). */
    static List<String> outputs(Random rnd) throws Exception {
        Path fresh = tmp.resolve("out-" + rnd.nextInt(1 << 20) + ".gguf");
        Path existing = tmp.resolve("existing.gguf");
        if (!Files.exists(existing)) Files.writeString(existing, "the user's file");
        Path link = tmp.resolve("link-to-existing");
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, existing);
        return List.of(fresh.toString(), fresh.toString(), existing.toString(), link.toString(), tmp.toString(), fifo.toString(), gguf.toString(),
                tmp.resolve("no/such/dir/x.gguf").toString(), tmp.resolve("out-dir-" + rnd.nextInt(1 << 20)).toString(), "");
    }

    static final List<String> INTS = List.of("0", "1", "2", "3", "-1", "7", "2147483647", "-2147483648", "99999999999", "1e3", "abc", "", "0x10", " 4");
    static final List<String> REALS = List.of("0", "1", "0.5", "0.9", "-1", "1e-40", "1e308", "-1e308", "NaN", "Infinity", "-Infinity", "abc", "", "1e999", "4.9e-324");
    static final List<String> STRINGS = List.of("", "x", "naïve 😀", "a".repeat(5000), "\u0000", "FOO", "-1", "--help", "1,2,3", "\n", "{{ x }}", "<|eot_id|>");
    static final List<String> TYPES = List.of("q4_0", "q8_0", "f16", "f32", "bf16", "q4_k", "Q4_K_M", "q5_k_m", "q6_k", "q4_1", "q5_0", "q5_1", "FOO", "", "q9_9");

    /** A value for one flag, chosen by its name first and its Java type otherwise. */
    static String value(ArgSpec a, String name, Random rnd) throws Exception {
        Class<?> t = a.type();
        List<String> pool = switch (name) {
            case "--to", "--out", "--chart", "--html", "--fix", "out" -> outputs(rnd);
            case "--type", "type" -> TYPES;
            case "--types" -> List.of("q8_0", "q4_k,f16", "FOO", "", ",", "q4_0,q4_0");
            // large presets would allocate gigabytes on a shared machine; their memory check is tested elsewhere
            case "--preset" -> List.of("tiny-llama", "tiny-llama", "nope", "", "TINY-LLAMA");
            case "--format" -> List.of("gguf", "hf", "", "GGUF", "x");
            case "--ids" -> List.of("1,2,3", "-1", "99999999", "x", "", "1,,2", "2147483648", "0");
            case "--prompt-ids" -> List.of("1", "1,2,3", "-1", "", "2147483647", "1,x", "0", "383", "384");
            case "--logit-bias" -> List.of("5=NaN", "5=Infinity", "5=-Infinity", "5=1", "x=1", "1=", "=", "99999999=1", "-1=1", "1=1e40", "3=-2");
            case "--rows", "--cols", "--tokens", "--stream-mib" -> List.of("0", "-1", "256", "512", "2147483647", "100", "x");
            case "--seconds" -> List.of("0", "-1", "0.01", "NaN", "Infinity", "1e9", "x");
            case "--max-tokens", "--gen", "--prompt", "--reps", "--warmup" -> List.of("0", "1", "3", "-1", "2147483647", "1001", "x", "");
            default -> null;
        };
        if (pool == null) {
            if (t == Path.class) pool = inputs(name);
            else if (t == int.class || t == Integer.class || t == long.class || t == Long.class) pool = INTS;
            else if (t == double.class || t == Double.class || t == float.class) pool = REALS;
            else pool = STRINGS;
        }
        return pool.get(rnd.nextInt(pool.size()));
    }

    /** Flags that keep an otherwise valid run cheap (each is only added when the fuzzer did not pick that flag). */
    static final Map<String, List<String>> CHEAP = Map.of(
            "kernels", List.of("--seconds", "0.01", "--stream-mib", "1", "--rows", "64", "--cols", "256", "--tokens", "4", "--types", "q8_0"),
            "bench", List.of("--prompt", "4", "--gen", "2", "--reps", "1", "--warmup", "0"),
            "tokenizer", List.of("--seconds", "0.01"),
            "chat", List.of("--max-tokens", "4"),
            "generate", List.of("--max-tokens", "8"));

    static List<CommandSpec> commands(CommandSpec root) {
        List<CommandSpec> out = new ArrayList<>();
        for (CommandLine sub : root.subcommands().values()) {
            if (!out.contains(sub.getCommandSpec())) out.add(sub.getCommandSpec());
            for (CommandSpec c : commands(sub.getCommandSpec())) if (!out.contains(c)) out.add(c);
        }
        return out;
    }

    static String positionalName(ArgSpec a) {
        return a.userObject() instanceof Field f ? f.getName() : a.paramLabel();
    }

    /** One random command line. */
    static List<String> commandLine(CommandSpec spec, Random rnd) throws Exception {
        List<String> args = new ArrayList<>(List.of(spec.qualifiedName(" ").split(" ")));
        args.removeFirst();   // "jllm"
        List<String> chosen = new ArrayList<>();
        for (var p : spec.positionalParameters())
            if (rnd.nextInt(10) > 0) args.add(value(p, positionalName(p), rnd));
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) continue;
            boolean pick = o.required() ? rnd.nextInt(10) > 0 : rnd.nextInt(3) == 0;
            if (!pick) continue;
            String name = o.longestName();
            chosen.add(name);
            if (o.arity().max() == 0) { args.add(name); continue; }
            args.add(name);
            args.add(value(o, name, rnd));
        }
        // now and then a flag that does not exist, or a value in the wrong place
        if (rnd.nextInt(15) == 0) args.add(rnd.nextBoolean() ? "--no-such-flag" : "stray");
        List<String> cheap = CHEAP.getOrDefault(spec.name(), List.of());
        for (int i = 0; i < cheap.size(); i += 2)
            if (!chosen.contains(cheap.get(i))) { args.add(cheap.get(i)); args.add(cheap.get(i + 1)); }
        return args;
    }

    record Outcome(int code, String out, String err) {}

    /** Runs in-process with a time limit (a run past it is a hang, reported as such). */
    static Outcome run(List<String> args) throws Exception {
        var result = new java.util.concurrent.CompletableFuture<Outcome>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                CliTest.Run r = CliTest.run(args.toArray(new String[0]));
                result.complete(new Outcome(r.code(), r.out(), r.err()));
            } catch (Throwable e) {
                result.complete(new Outcome(-1, "", "escaped: " + e));
            }
        });
        try {
            return result.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            t.interrupt();
            return new Outcome(-2, "", "hang: no result after " + TIMEOUT_S + " s");
        }
    }

    /** What is wrong with an outcome, or null when it is acceptable. */
    static String problem(Outcome o) {
        String all = o.out() + o.err();
        if (all.contains("\tat ") || all.contains("Exception in thread") || all.contains("Caused by:")) return "stack trace";
        if (o.code() < 0) return o.err();
        if (o.err().contains("internal error")) return "internal error";
        if (o.code() == 0 || o.code() == 1 && o.out().contains("RESULT ") || o.code() == 3 && o.err().startsWith("error: ")) return null;
        if (o.code() != 2) return "exit status " + o.code();
        List<String> errors = o.err().lines().filter(l -> l.startsWith("error: ")).toList();
        if (errors.size() != 1) return errors.size() + " error lines";
        String last = o.err().strip().lines().reduce((a, b) -> b).orElse("");
        if (!last.startsWith("error: ")) return "the error is not the last line";
        if (last.length() < 12) return "an empty message";
        return null;
    }

    @Test
    void everyFlagWithRandomAndExtremeValues() throws Exception {
        List<CommandSpec> commands = commands(Main.commandLine().getCommandSpec());
        Random rnd = new Random(SEED);
        Map<String, Integer> byCommand = new TreeMap<>(), byCode = new TreeMap<>();
        java.util.Set<String> messages = new java.util.HashSet<>();
        List<String> failures = new ArrayList<>();
        InputStream stdin = System.in;
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < RUNS; i++) {
                CommandSpec spec = commands.get(rnd.nextInt(commands.size()));
                List<String> args = commandLine(spec, rnd);
                System.setIn(new ByteArrayInputStream("hi\n/reset\nhello again\n".getBytes(StandardCharsets.UTF_8)));
                Outcome o = run(args);
                byCommand.merge(spec.qualifiedName(" ").substring(5), 1, Integer::sum);
                byCode.merge("exit " + o.code(), 1, Integer::sum);
                o.err().lines().filter(l -> l.startsWith("error: ")).forEach(messages::add);
                String p = problem(o);
                if (p != null) failures.add(p + ": jllm " + String.join(" ", args).replace("\n", "\\n") + "\n    -> " + firstLines(o.err()));
                if (o.code() == -2) break;   // a hung run keeps its thread; stop rather than pile more up
            }
        } finally {
            System.setIn(stdin);
        }
        BasicFileAttributes devNull = Files.readAttributes(Path.of("/dev/null"), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertTrue(devNull.isOther(), "/dev/null is still a device");
        System.out.printf("CLI fuzz: %d runs (seed %d) in %.1f s; %s; %d distinct error messages; by command %s%n",
                RUNS, SEED, (System.nanoTime() - t0) / 1e9, byCode, messages.size(), byCommand);
        String dump = System.getProperty("jllm.fuzz.messages");
        if (dump != null) Files.write(Path.of(dump), new java.util.TreeSet<>(messages));
        assertEquals(List.of(), failures, failures.size() + " bad outcomes");
    }

    private static String firstLines(String s) {
        return String.join(" | ", s.lines().limit(4).map(l -> l.length() > 300 ? l.substring(0, 300) + "..." : l).toList());
    }

    /**
     * A few runs as real processes, for what cannot be passed in-process: arguments that are not
     * valid UTF-8, and a JVM that must exit (not hang) on a FIFO.
     */
    @Test
    void realProcessesWithInvalidUtf8ArgumentsAndAFifo() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<List<String>> cases = List.of(
                List.of("tokenize", "--tokenizer", fixtures.resolve("tokenizers/llama3").toString(), "--text", "na\u00ffve"),
                List.of("generate", "--model", fifo.toString(), "--prompt-ids", "1"),
                List.of("template", "render", fifo.toString(), "--context", fifo.toString()),
                List.of("doctor", "compare", "--model", fixtures.resolve("hf/llama3").toString(), "--reference", fifo.toString()));
        for (List<String> c : cases) {
            // bash turns the \xff marker into a raw 0xFF byte: an argument that is not UTF-8
            List<String> cmd = new ArrayList<>(List.of("bash", "-c", "args=(\"$@\"); exec \"${args[@]//\u00ff/$'\\xff'}\"", "bash",
                    java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(c);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(TIMEOUT_S, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(done, "no hang: " + c);
            assertEquals(null, problem(new Outcome(p.exitValue(), out, err.replace("WARNING: Using incubator modules: jdk.incubator.vector\n", ""))),
                    c + " -> " + err);
            assertEquals(2, p.exitValue(), c + " -> " + err);
        }
    }
}
