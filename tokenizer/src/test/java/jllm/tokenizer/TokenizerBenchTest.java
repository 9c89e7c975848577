package jllm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Side-by-side encode speed of jllm and the Rust tokenizers (DJL), single thread, line by line.
 * Off in CI; run with {@code mvn -pl tokenizer test -Dtest=TokenizerBenchTest -Djllm.bench=true
 * [-Djllm.bench.file=TEXT]}. Without a file, a mixed text is built from the corpus, fuzz strings
 * and English prose.
 */
@Tag("bench")
class TokenizerBenchTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "llama2", "gemma3"})
    void encodeSpeed(String name) throws Exception {
        assumeTrue(Boolean.getBoolean("jllm.bench"), "set -Djllm.bench=true to run");
        String text = text();
        String[] lines = text.split("(?<=\n)");
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        Tokenizer tok = Fixtures.hf(name);
        Path dir = Fixtures.root().resolve("tokenizers").resolve(name);
        try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "false"))) {
            double jllm = measure(bytes, () -> { for (String l : lines) tok.encode(l, false); });
            double rust = measure(bytes, () -> { for (String l : lines) djl.encode(l); });
            // DJL pays a fixed JNI cost per call (ids, offsets, masks are separate arrays), so also
            // measure both on ~64 KB chunks, where that overhead is negligible and Rust's own speed shows.
            String[] chunks = chunks(lines, 64 * 1024);
            double jllmChunks = measure(bytes, () -> { for (String c : chunks) tok.encode(c, false); });
            double rustChunks = measure(bytes, () -> { for (String c : chunks) djl.encode(c); });
            // One JNI call per 1000 lines (Rust's encode_batch; single-threaded with RAYON_NUM_THREADS=1).
            List<String[]> batches = new java.util.ArrayList<>();
            for (int i = 0; i < lines.length; i += 1000) batches.add(Arrays.copyOfRange(lines, i, Math.min(lines.length, i + 1000)));
            double rustBatch = measure(bytes, () -> { for (String[] b : batches) djl.batchEncode(b); });
            System.out.printf("bench %-7s %d bytes: per line jllm %.2f MB/s, rust(DJL) %.2f MB/s; 64KB chunks jllm %.2f MB/s, rust(DJL) %.2f MB/s; rust batch of 1000 lines %.2f MB/s%n",
                    name, bytes, jllm, rust, jllmChunks, rustChunks, rustBatch);
        }
    }

    static String[] chunks(String[] lines, int size) {
        java.util.List<String> r = new java.util.ArrayList<>();
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l);
            if (b.length() >= size) { r.add(b.toString()); b.setLength(0); }
        }
        if (!b.isEmpty()) r.add(b.toString());
        return r.toArray(new String[0]);
    }

    static double measure(long bytes, Runnable pass) {
        long w = System.nanoTime();
        while (System.nanoTime() - w < 2_000_000_000L) pass.run();
        int passes = 0;
        long t0 = System.nanoTime();
        do { pass.run(); passes++; } while (System.nanoTime() - t0 < 4_000_000_000L);
        return bytes * (double) passes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    static String text() throws Exception {
        String f = System.getProperty("jllm.bench.file");
        if (f != null) return Files.readString(Path.of(f));
        StringBuilder b = new StringBuilder();
        for (String l : Files.readAllLines(Fixtures.root().resolve("tokenizers/corpus.jsonl"))) {
            b.append(new com.fasterxml.jackson.databind.ObjectMapper().readTree(l).get("text").asText()).append('\n');
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < 2000; i++) b.append(FuzzText.next(r)).append('\n');
        String prose = "The quick brown fox jumps over the lazy dog. It's 3.14 o'clock, isn't it? We'll see: 1,000,000 people (roughly) said \"yes\".\n";
        String base = b.toString();
        StringBuilder all = new StringBuilder();
        while (all.length() < 3_000_000) all.append(base).append(prose.repeat(200));
        return all.toString();
    }
}
