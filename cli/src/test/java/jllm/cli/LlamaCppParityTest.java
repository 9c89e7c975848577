package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A fine-tuned model exported by {@code jllm export --adapter} loads in llama.cpp and decodes greedily to
 * the same tokens as jllm on the same GGUF (f32 and q8_0), for each architecture jllm exports.
 * <p>
 * Needs a llama.cpp source tree with its libraries built ({@code ../shared/docs/llamacpp.md}) and a C++
 * compiler: {@code -Djllm.llamacpp=/path/to/llama.cpp} (headers in {@code include/} and
 * {@code ggml/include/}, {@code libllama.so} in {@code build/bin/}). Without the property it does not run.
 * The comparison goes through ids only ({@code greedy_ids.cpp}, llama.cpp's C API, argmax of the raw
 * logits), so no detokenisation or text handling sits between the two engines.
 */
@EnabledIfSystemProperty(named = "jllm.llamacpp", matches = ".+")
class LlamaCppParityTest {
    @TempDir static Path dir;
    static Path driver;

    static final int TOKENS = 32;

    @BeforeAll
    static void compileDriver() throws Exception {
        Path root = Path.of(System.getProperty("jllm.llamacpp"));
        Path src = dir.resolve("greedy_ids.cpp");
        try (var in = LlamaCppParityTest.class.getResourceAsStream("/llamacpp/greedy_ids.cpp")) {
            Files.copy(in, src);
        }
        driver = dir.resolve("greedy_ids");
        Path lib = root.resolve("build/bin");
        exec(List.of("g++", "-O1", "-std=c++17", "-I" + root.resolve("include"), "-I" + root.resolve("ggml/include"), src.toString(),
                "-L" + lib, "-lllama", "-Wl,-rpath," + lib, "-o", driver.toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "mistral", "qwen2", "qwen3", "gemma2", "phi3", "olmo2", "granite", "mixtral"})
    void exportedFineTuneDecodesTheSameInLlamaCpp(String fixture) throws Exception {
        Path work = Files.createDirectories(dir.resolve(fixture));
        Path model = TinyModel.make(work, fixture), data = TinyModel.titanic(work, 24), ft = work.resolve("ft");
        asLlamaCppComputesIt(model.resolve("config.json"), fixture);
        CliTest.Run r = FinetuneCommandTest.run(FinetuneCommandTest.finetuneArgs(model, data, ft, "--max-steps", "3", "--lr", "1e-2", "--target", "all-linear"));
        assertEquals(0, r.code(), r.err());
        compare(fixture, work, model, ft, "Passenger: class 1, female, age 38");
    }

    /** The default model (when present), exported without an adapter: the model the README runs, in llama.cpp. */
    @org.junit.jupiter.api.Test
    void defaultModelDecodesTheSameInLlamaCpp() throws Exception {
        Path model = Models.defaultModel();
        assertTrue(Files.isDirectory(model), "no default model at " + model + " (it is committed: its absence is a failure)");
        compare("default", Files.createDirectories(dir.resolve("default")), model, null, "ROMEO:\nWhat say you, my lord?\n");
    }

    /** Exports {@code model} (+ {@code adapter}) as f32 and q8_0 and compares greedy decoding of {@code text} in both engines. */
    static void compare(String name, Path work, Path model, Path adapter, String text) throws Exception {
        for (String type : List.of("f32", "q8_0")) {
            Path gguf = work.resolve(name + "-" + type + ".gguf");
            List<String> args = new ArrayList<>(List.of("export", "--model", model.toString(), "--to", gguf.toString(), "--type", type));
            if (adapter != null) args.addAll(List.of("--adapter", adapter.toString()));
            CliTest.Run ex = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, ex.code(), ex.err());
            CliTest.Run tok = CliTest.run("tokenize", "--tokenizer", gguf.toString(), "--add-special", "--text", text);
            assertEquals(0, tok.code(), tok.err());
            List<String> prompt = Arrays.stream(tok.out().replaceAll("[^0-9]+", " ").trim().split(" ")).toList();
            assertTrue(prompt.size() > 5, tok.out());
            CliTest.Run jl = CliTest.run("generate", "--model", gguf.toString(), "--prompt-ids", String.join(",", prompt), "--max-tokens", "" + TOKENS,
                    "--no-stop", "--print-ids", "--threads", "2");
            assertEquals(0, jl.code(), jl.err());
            List<String> ours = Arrays.asList(jl.out().trim().split(" "));
            List<String> cmd = new ArrayList<>(List.of(driver.toString(), gguf.toString(), "" + TOKENS));
            cmd.addAll(prompt);
            String free = exec(cmd).trim();
            // Teacher-forced on jllm's tokens: where llama.cpp would choose differently, by how much.
            cmd.add("--");
            cmd.addAll(ours);
            String[] steps = exec(cmd).trim().split(" ");
            int same = 0;
            double worst = 0;
            for (String st : steps) {
                double gap = Double.parseDouble(st.substring(st.indexOf(':') + 1));
                if (gap == 0) same++;
                worst = Math.max(worst, gap);
            }
            System.err.printf(java.util.Locale.ROOT, "llama.cpp parity %s %s: free-running ids %s; teacher-forced: %d/%d steps llama.cpp's argmax, largest logit gap %.3g%n",
                    name, type, free.equals(jl.out().trim()) ? "identical" : "differ", same, TOKENS, worst);
            // Random tiny models have flat distributions: a near-tie may fall either way. Exact argmax on
            // (nearly) every step, and where not, a gap of round-off size (f32) or of activation
            // quantization size (q8_0: both quantize activations to 8 bits per 32 values, at other points).
            // Mixture-of-experts q8_0 is reported but not held to it: a near-tie in the (quantized) router
            // picks other experts and moves the logits by far more than round-off (seen: 1.9 on one step of 32).
            if (name.equals("mixtral") && !type.equals("f32")) continue;
            double tol = type.equals("f32") ? 1e-4 : 3e-2;
            assertTrue(worst <= tol && same >= TOKENS - 2, name + " " + type + ": llama.cpp disagrees with jllm's greedy tokens beyond "
                    + tol + " (teacher-forced argmax:gap per step: " + String.join(" ", steps) + ")");
        }
    }

    /**
     * Where llama.cpp computes a fixture's architecture differently from transformers, the fixture is
     * changed to what llama.cpp can compute (the real checkpoints are like this): Gemma 2's attention
     * scale is 1/sqrt(head_dim) in llama.cpp (query_pre_attn_scalar is ignored except for 27B), and
     * llama.cpp's llama graph has no Mistral sliding window.
     */
    static void asLlamaCppComputesIt(Path config, String fixture) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var c = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(config.toFile());
        switch (fixture) {
            case "gemma2" -> c.put("query_pre_attn_scalar", c.get("head_dim").asInt());
            case "mistral" -> c.putNull("sliding_window");
            default -> { return; }
        }
        json.writeValue(config.toFile(), c);
    }

    static String exec(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd.stream().collect(Collectors.joining(" ")));
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + s);
        return s;
    }
}
