package jllm.train;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jllm.tokenizer.Tokenizer;

/** The shared reference fixtures, located by {@link jllm.testkit.Fixtures} (missing ones fail the test). */
public final class Fixtures {
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Fixtures() { }

    public static Path root() { return jllm.testkit.Fixtures.root(); }

    public static Path dataset(String name) { return root().resolve("datasets").resolve(name); }

    /** One of the real tokenizers (llama2, llama3, gemma3, qwen3), loaded once. */
    public static Tokenizer tokenizer(String name) {
        return TOKENIZERS.computeIfAbsent(name, n -> Tokenizer.load(root().resolve("tokenizers").resolve(n)));
    }
}
