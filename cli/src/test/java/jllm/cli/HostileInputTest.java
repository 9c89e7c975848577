package jllm.cli;

import static jllm.cli.OutputSafetyTest.assertOneLineError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Absurd numbers, limits users rely on, text in any locale, and messages a person can act on: each
 * gets a clear one-line error (exit 2) or a defined behaviour, never a stack trace or a hang.
 */
class HostileInputTest {
    @TempDir Path tmp;

    static final String LLAMA3 = CliTest.fixtures().resolve("hf/llama3").toString();   // context 256, vocabulary 384

    static CliTest.Run gen(String... more) { return genWith(LLAMA3, more); }

    static CliTest.Run genWith(String model, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model, "--print-ids"));
        args.addAll(List.of(more));
        return CliTest.run(args.toArray(new String[0]));
    }

    @Test
    void absurdNumbersGetClearErrors() {
        assertOneLineError(gen("--prompt-ids", "1", "--threads", "1000000"), "--threads must be between 1 and 1024");
        assertOneLineError(gen("--prompt-ids", "1", "--threads", "0"), "--threads");
        assertOneLineError(gen("--prompt-ids", "1", "--threads", "99999999999"), "--threads");
        assertOneLineError(gen("--prompt-ids", "1,-1"), "--prompt-ids: -1 is outside the model's vocabulary (0..383)");
        assertOneLineError(gen("--prompt-ids", "2000000000"), "--prompt-ids: 2000000000 is outside");
        assertOneLineError(gen("--prompt-ids", "1", "--logit-bias", "5=NaN"), "--logit-bias for token 5 must be a finite number or -Infinity");
        assertOneLineError(gen("--prompt-ids", "1", "--logit-bias", "5=Infinity"), "--logit-bias");
        assertOneLineError(gen("--prompt-ids", "1", "--logit-bias", "999999=1"), "--logit-bias: token id 999999 is outside the vocabulary");
        assertOneLineError(gen("--prompt-ids", "1", "--temperature", "-1"), "--temperature must be >= 0");
        assertOneLineError(gen("--prompt-ids", "1", "--temperature", "NaN"), "--temperature");
        assertOneLineError(gen("--prompt-ids", "1", "--top-p", "Infinity"), "--top-p must be in (0, 1]");
        assertOneLineError(gen("--prompt-ids", "1", "--max-tokens", "-3"), "--max-tokens must be >= 0");
        assertOneLineError(CliTest.run("bench", "kernels", "--rows", "1000000", "--cols", "1048576"), "must each stay below");
        assertOneLineError(CliTest.run("bench", "kernels", "--seconds", "NaN"), "--seconds in (0, 600]");
        assertOneLineError(CliTest.run("bench", "--preset", "tiny-llama", "--reps", "1000000000"), "--reps must be in 1..1000, got 1000000000");
        assertOneLineError(CliTest.run("bench", "--preset", "tiny-llama", "--prompt", "2147483647", "--gen", "2147483647"), "exceeds the model's context");
    }

    @Test
    void aTinyTemperatureIsGreedyNotGarbage() {
        CliTest.Run greedy = gen("--prompt-ids", "1", "--max-tokens", "8", "--temperature", "0");
        CliTest.Run tiny = gen("--prompt-ids", "1", "--max-tokens", "8", "--temperature", "1e-40");
        assertEquals(0, tiny.code(), tiny.err());
        assertEquals(greedy.out(), tiny.out());
        // a -Infinity bias bans: the banned token never appears
        String first = greedy.out().strip().split(" ")[0];
        CliTest.Run banned = gen("--prompt-ids", "1", "--max-tokens", "8", "--logit-bias", first + "=-Infinity");
        assertEquals(0, banned.code(), banned.err());
        assertTrue(!List.of(banned.out().strip().split(" ")).contains(first), banned.out());
    }

    @Test
    void generationStopsAtTheContextLengthWithAMessage() {
        CliTest.Run r = gen("--prompt-ids", "1,2,3", "--max-tokens", "1000");
        assertEquals(0, r.code(), r.err());
        assertEquals(253, r.out().strip().split(" ").length);
        assertTrue(r.err().contains("--max-tokens 1000 capped to 253") && r.err().contains("context length is 256"), r.err());
        assertTrue(r.err().contains("stopped: reached the model's context length of 256 tokens"), r.err());
        CliTest.Run past = gen("--prompt-ids", "1,2,3", "--max-tokens", "260", "--allow-context-overflow");
        assertEquals(0, past.code(), past.err());
        assertEquals(260, past.out().strip().split(" ").length);
        String longPrompt = "1,".repeat(300) + "1";
        assertOneLineError(gen("--prompt-ids", longPrompt), "the prompt has 301 tokens, more than the model's context length of 256");
        assertTrue(gen("--prompt-ids", longPrompt).err().contains("--allow-context-overflow"));
    }

    @Test
    void weightTypesHaveOneSpellingEverywhere() throws Exception {
        Path g = tmp.resolve("t.gguf");
        for (String t : List.of("q4_k", "Q4_K_M", "q5_k_m", "Q8_0", "f16")) {
            CliTest.Run r = CliTest.run("init", "--preset", "tiny-llama", "--type", t, "--out", g.toString(), "--overwrite");
            assertEquals(0, r.code(), t + ": " + r.err());
            r = CliTest.run("bench", "--preset", "tiny-llama", "--type", t, "--prompt", "2", "--gen", "1", "--reps", "1", "--warmup", "0");
            assertEquals(0, r.code(), t + ": " + r.err());
            r = CliTest.run("quantize", g.toString(), tmp.resolve("q.gguf").toString(), t, "--overwrite");
            assertEquals(0, r.code(), t + ": " + r.err());
        }
        for (String[] cmd : List.of(new String[] {"init", "--preset", "tiny-llama", "--out", g.toString(), "--overwrite", "--type", "FOO"},
                new String[] {"bench", "--preset", "tiny-llama", "--type", "FOO"},
                new String[] {"convert", LLAMA3, "--to", g.toString(), "--type", "FOO"},
                new String[] {"quantize", g.toString(), tmp.resolve("x.gguf").toString(), "FOO"})) {
            CliTest.Run r = CliTest.run(cmd);
            assertOneLineError(r, "unknown weight type 'FOO' (one of: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m (= q4_k), q5_k_m (= q5_k), q6_k)");
        }
        assertOneLineError(CliTest.run("bench", "kernels", "--types", "q8_0,FOO"), "--types: unknown weight type 'FOO'");
    }

    @Test
    void noArgumentsPrintUsageAndExit2() {
        CliTest.Run r = CliTest.run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: jllm") && r.out().isEmpty(), r.err());
        assertEquals(0, CliTest.run("--help").code());
    }

    @Test
    void messagesNameTheFileOrFlagAndTheReason() throws Exception {
        String qwen = CliTest.fixtures().resolve("tokenizers/qwen3").toString();
        assertOneLineError(CliTest.run("tokenize", "--tokenizer", qwen, "--jsonl", tmp.toString()), "--jsonl " + tmp + ": is a directory");
        assertOneLineError(CliTest.run("template", "render", tmp.toString(), "--context", tmp.toString()), "template " + tmp + ": is a directory");
        Path bad = tmp.resolve("bad.jsonl");
        Files.write(bad, "{\"text\": \"ok\"}\n{\"text\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        assertOneLineError(CliTest.run("tokenize", "--tokenizer", CliTest.fixtures().resolve("tokenizers/qwen3").toString(), "--jsonl", bad.toString()),
                "bad.jsonl:2: not valid UTF-8");
        Path cfg = Files.createDirectory(tmp.resolve("m"));
        Files.writeString(cfg.resolve("config.json"), "{\"vocab_size\": 12,\n \"hidden_size\": }");
        CliTest.Run r = CliTest.run("generate", "--model", cfg.toString(), "--prompt-ids", "1");
        assertOneLineError(r, "config.json: not valid JSON at line 2, column 17");
        assertTrue(!r.err().contains("Source") && !r.err().contains("REDACTED") && !r.err().contains("jackson"), r.err());
        assertOneLineError(CliTest.run("bench", "--model", tmp.resolve("nope").toString()), "nope: no such file or directory");
        assertOneLineError(CliTest.run("convert", tmp.toString(), "--to", ""), "Invalid value for option '--to': empty path");
        assertOneLineError(CliTest.run("tokenize", "--tokenizer", "/dev/null", "--text", "x"), "/dev/null: is not a regular file");
        // /dev/zero never ends: reading it whole would exhaust the heap
        Path corpus = Files.writeString(tmp.resolve("corpus.txt"), "hello world ".repeat(50));
        assertOneLineError(CliTest.run("tokenizer", "train", "--data", corpus.toString(), "--vocab", "300", "--out", tmp.resolve("tok").toString(),
                "--chat-template", "/dev/zero"), "/dev/zero: is not a regular file");
        assertOneLineError(CliTest.run("convert", tmp.toString(), "--to", tmp.resolve("x.gguf").toString()), tmp + ": no config.json");
        assertOneLineError(CliTest.run("generate", "--prompt", "a", "--prompt-ids", "1", "--model", LLAMA3),
                "error: --prompt=<text>, --prompt-ids=<ids> are mutually exclusive");
    }

    @Test
    void ggufIsRecognisedByItsMagicNotItsName() throws Exception {
        // Ollama keeps models as blobs named by their hash
        Path blob = tmp.resolve("sha256-6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa");
        assertEquals(0, CliTest.run("convert", LLAMA3, "--to", blob.toString(), "--type", "f32").code());
        CliTest.Run byBlob = genWith(blob.toString(), "--prompt-ids", "1,2", "--max-tokens", "4");
        CliTest.Run byDir = gen("--prompt-ids", "1,2", "--max-tokens", "4");
        assertEquals(0, byBlob.code(), byBlob.err());
        assertEquals(byDir.out(), byBlob.out());
    }

    @Test
    void argumentsAreUtf8WhateverTheLocale() throws Exception {
        // A real JVM with no LANG: the JVM decodes argv as ASCII; jllm reads the bytes again as UTF-8.
        String java = ProcessHandle.current().info().command().orElse("java");
        Path tok = CliTest.fixtures().resolve("tokenizers/llama3");
        List<String> cmd = List.of(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "tokenize", "--tokenizer", tok.toString(), "--text", "na\u00efve \ud83d\ude00");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.equals("LANG") || k.startsWith("LC_"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        CliTest.Run inProcess = CliTest.run("tokenize", "--tokenizer", tok.toString(), "--text", "na\u00efve \ud83d\ude00");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.strip().endsWith(inProcess.out().strip()), out + " vs " + inProcess.out());
        // and decoded text comes back as UTF-8 on stdout
        pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "decode", "--tokenizer", tok.toString(), "--ids", inProcess.out().strip().replaceAll("[\\[\\] ]", ""));
        pb.environment().keySet().removeIf(k -> k.equals("LANG") || k.startsWith("LC_"));
        p = pb.start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("na\u00efve \ud83d\ude00", out.strip());
    }
}
