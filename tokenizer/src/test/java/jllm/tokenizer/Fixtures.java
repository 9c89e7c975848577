package jllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shared fixtures ({@link jllm.testkit.Fixtures}) and loaded tokenizers cached across test classes. */
public final class Fixtures {
    private Fixtures() {}

    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();
    private static JsonNode reference;

    public static Path root() { return jllm.testkit.Fixtures.root(); }

    public static Tokenizer hf(String name) {
        return CACHE.computeIfAbsent("hf:" + name, k -> Tokenizer.load(root().resolve("tokenizers").resolve(name)));
    }

    public static Tokenizer load(Path p) {
        return CACHE.computeIfAbsent(p.toString(), k -> Tokenizer.load(p));
    }

    public static synchronized JsonNode reference() {
        if (reference == null) {
            try {
                reference = new ObjectMapper().readTree(root().resolve("tokenizers/reference.json").toFile());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }
        return reference;
    }

    public static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }
}
