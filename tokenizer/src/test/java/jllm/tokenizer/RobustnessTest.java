package jllm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import jllm.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Broken text, huge inputs and broken tokenizer files: defined output or one clear FormatException. */
class RobustnessTest {
    @TempDir Path tmp;

    @Test
    void loneSurrogatesBecomeReplacementChars() {
        for (String name : new String[] {"llama2", "llama3", "gemma3", "qwen3"}) {
            Tokenizer t = Fixtures.hf(name);
            assertArrayEquals(t.encode("a\uFFFDb\uFFFD", false), t.encode("a\uD800b\uDFFF", false), name);
            assertArrayEquals(t.encode("\uFFFD", true), t.encode("\uDBFF", true), name);
            assertNotNull(t.decode(t.encode("x\uD83D", false)));
        }
    }

    @Test
    void nulBytesMatchRust() throws Exception {
        String text = "a\u0000b \u0000\u0000 <s>\u0000</s>\u0000";
        for (String name : new String[] {"llama2", "llama3", "gemma3", "qwen3"}) {
            Path dir = Fixtures.root().resolve("tokenizers").resolve(name);
            try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "false"))) {
                long[] want = djl.encode(text).getIds();
                int[] got = Fixtures.hf(name).encode(text, false);
                assertArrayEquals(want, Arrays.stream(got).asLongStream().toArray(), name);
                assertEquals(djl.decode(want, false), Fixtures.hf(name).decode(got), name);
            }
        }
    }

    @Test
    void decodeIgnoresIdsOutsideTheVocabulary() {
        Tokenizer t = Fixtures.hf("llama3");
        assertEquals("Hello", t.decode(new int[] {-5, 9906, 1 << 30}));
    }

    static String bigLine(int bytes) {
        StringBuilder b = new StringBuilder(bytes);
        String[] words = {"hello", " world", "  ", "123456", "日本語", "😀", "'s", " ", "\t", "café", ",", "..."};
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        while (b.length() < bytes) b.append(words[r.nextInt(words.length)]);
        return b.toString();
    }

    @Test
    void tenMegabyteSingleLineInLinearTime() {
        String small = bigLine(1_000_000);
        String big = bigLine(10_000_000);
        Path deepseek = Fixtures.root().resolve("llamacpp/vocab/ggml-vocab-deepseek-llm.gguf");
        Tokenizer[] toks = {Fixtures.hf("llama3"), Fixtures.hf("qwen3"), Fixtures.hf("llama2"), Fixtures.hf("gemma3"), Fixtures.load(deepseek)};
        for (Tokenizer t : toks) {
            long a = System.nanoTime();
            int n1 = t.encode(small, false).length;
            long b = System.nanoTime();
            int n10 = t.encode(big, false).length;
            long c = System.nanoTime();
            double s1 = (b - a) / 1e9, s10 = (c - b) / 1e9;
            System.out.printf("10 MB line %s: %d tokens in %.2f s (1 MB: %.2f s)%n", t.source(), n10, s10, s1);
            assertTrue(n10 > 9 * n1 && n10 < 11 * n1, "token counts scale linearly");
            // Generous: linear work is ~10x; quadratic would be ~100x.
            assertTrue(s10 < 30 * s1 + 3, "10 MB took " + s10 + " s vs " + s1 + " s for 1 MB");
        }
    }

    @Test
    void regexFallbackSurvivesDeepRecursion() {
        // A user regex that java.util.regex implements recursively: must not throw StackOverflowError.
        var p = new jllm.tokenizer.pretokenizer.RegexPattern("(?:ab|cd)+");
        var spans = new jllm.tokenizer.util.IntList();
        String s = "ab".repeat(200_000);
        try {
            p.findMatches(s, spans);
            assertEquals(2, spans.size());
            assertEquals(s.length(), spans.get(1));
        } catch (FormatException e) {
            assertTrue(e.getMessage().contains("too complex"), e.getMessage());
        }
    }

    Path json(String body) throws Exception {
        Path d = Files.createTempDirectory(tmp, "tj");
        Files.writeString(d.resolve("tokenizer.json"), body);
        return d;
    }

    static final String VOCAB = "{\"a\":0,\"b\":1,\"ab\":2}";

    static String tokJson(String pre, String merges) {
        return "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":" + pre
                + ",\"post_processor\":null,\"decoder\":null,\"model\":{\"type\":\"BPE\",\"vocab\":" + VOCAB + ",\"merges\":" + merges + "}}";
    }

    void assertBad(Path p, String fragment) {
        FormatException e = assertThrows(FormatException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message: " + e.getMessage());
    }

    @Test
    void configFlagsOverrideTheTemplateForLlamaClasses() throws Exception {
        Path d = json(tokJson("null", "[\"a b\"]").replace("\"added_tokens\":[]",
                "\"added_tokens\":[{\"id\":3,\"content\":\"<s>\",\"special\":true,\"normalized\":false},{\"id\":4,\"content\":\"</s>\",\"special\":true,\"normalized\":false}]"));
        Files.writeString(d.resolve("tokenizer_config.json"),
                "{\"tokenizer_class\":\"LlamaTokenizerFast\",\"add_bos_token\":true,\"add_eos_token\":true,\"bos_token\":\"<s>\",\"eos_token\":\"</s>\"}");
        assertArrayEquals(new int[] {3, 2, 4}, Tokenizer.load(d).encode("ab", true));
    }

    @Test
    void minimalTokenizerJsonWorks() throws Exception {
        Tokenizer t = Tokenizer.load(json(tokJson("null", "[\"a b\"]")));
        assertArrayEquals(new int[] {2, 0}, t.encode("aba", false));
    }

    @Test
    void malformedTokenizerJson() throws Exception {
        assertBad(json("{\"model\": {\"type\": \"BPE\", \"vocab\": {"), "not valid JSON");
        assertBad(json("[1,2,3]"), "not a tokenizer.json");
        assertBad(json(tokJson("null", "[\"a c\"]")), "missing from the vocabulary");
        assertBad(json(tokJson("null", "[\"abc\"]")), "is not 'a b'");
        assertBad(json(tokJson("null", "[\"a b\"]").replace("\"BPE\"", "\"Quantum\"")), "unsupported model type 'Quantum'");
    }

    @Test
    void unknownComponentTypes() throws Exception {
        assertBad(json(tokJson("{\"type\":\"MagicSplit\"}", "[]")), "unsupported pre-tokenizer type 'MagicSplit'");
        assertBad(json(tokJson("{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\",\"invert\":false}", "[]")), "invalid split regex");
        assertBad(json(tokJson("{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Sideways\",\"invert\":false}", "[]")), "unknown split behavior");
        assertBad(json(tokJson("null", "[]").replace("\"normalizer\":null", "\"normalizer\":{\"type\":\"Weird\"}")), "unsupported normalizer type 'Weird'");
        assertBad(json(tokJson("null", "[]").replace("\"decoder\":null", "\"decoder\":{\"type\":\"Weird\"}")), "unsupported decoder type 'Weird'");
    }

    @Test
    void badFilesOfOtherFormats() throws Exception {
        assertBad(tmp.resolve("missing.json"), "no such file");
        Path model = tmp.resolve("x.model");
        Files.write(model, new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, 0x7F});
        assertThrows(FormatException.class, () -> Tokenizer.load(model));
        Path bin = tmp.resolve("tokenizer.bin");
        Files.write(bin, new byte[] {(byte) 200, 0, 0, 0, 0, 0, 0x40, 0x40, 100, 0, 0, 0, (byte) 97});
        assertBad(bin, "runs past the end");
        assertBad(Fixtures.root().resolve("llama2c/stories260K.bin"), "not a llama2.c tokenizer.bin");
        Path gguf = tmp.resolve("empty.gguf");
        Files.write(gguf, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        assertBad(gguf, "no tokenizer.ggml.model");
        Path emptyDir = Files.createTempDirectory(tmp, "empty");
        assertBad(emptyDir, "no tokenizer.json");
    }

    @Test
    void unknownGgufPreTokenizer() throws Exception {
        // Copy the gpt-2 vocabulary with tokenizer.ggml.pre replaced by an unknown name of equal length.
        byte[] b = Files.readAllBytes(Fixtures.root().resolve("llamacpp/vocab/ggml-vocab-gpt-2.gguf"));
        byte[] key = "tokenizer.ggml.pre".getBytes();
        int at = indexOf(b, key);
        assertTrue(at > 0);
        int val = at + key.length + 4 + 8; // type i32, string length u64
        byte[] name = "zz-99".getBytes(); // "gpt-2" has 5 bytes too
        System.arraycopy(name, 0, b, val, name.length);
        Path p = tmp.resolve("odd.gguf");
        Files.write(p, b);
        assertBad(p, "unsupported tokenizer.ggml.pre 'zz-99'");
    }

    static int indexOf(byte[] b, byte[] k) {
        outer:
        for (int i = 0; i + k.length <= b.length; i++) {
            for (int j = 0; j < k.length; j++) if (b[i + j] != k[j]) continue outer;
            return i;
        }
        return -1;
    }
}
