package jllm.train;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jllm.tokenizer.Tokenizer;

/** The shared reference fixtures (-Djllm.fixtures, default ../shared/fixtures beside the project). */
public final class Fixtures {
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Fixtures() { }

    public static Path root() {
        String p = System.getProperty("jllm.fixtures");
        if (p != null) return Path.of(p);
        String r = System.getProperty("jllm.root");
        return r != null ? Path.of(r).resolve("../shared/fixtures") : Path.of("../shared/fixtures");
    }

    public static Path dataset(String name) { return root().resolve("datasets").resolve(name); }

    /** One of the real tokenizers (llama2, llama3, gemma3, qwen3), loaded once. */
    public static Tokenizer tokenizer(String name) {
        return TOKENIZERS.computeIfAbsent(name, n -> Tokenizer.load(root().resolve("tokenizers").resolve(n)));
    }
}
