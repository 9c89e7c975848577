package jllm.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Differential test against the Rust Hugging Face tokenizers (through DJL): seeded random strings,
 * encode without and with special tokens, and decode. {@code -Djllm.fuzz.count=100000} for a long run.
 */
class DifferentialFuzzTest {
    static final int COUNT = Integer.getInteger("jllm.fuzz.count", 2500);

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "gemma3", "qwen3"})
    void sameAsRust(String name) throws Exception {
        compare(name, Fixtures.root().resolve("tokenizers").resolve(name));
    }

    /** Other tokenizer.json directories, on demand: {@code -Djllm.fuzz.extra=DIR1,DIR2}. */
    @org.junit.jupiter.api.TestFactory
    java.util.stream.Stream<org.junit.jupiter.api.DynamicTest> extraTokenizers() {
        String extra = System.getProperty("jllm.fuzz.extra", "");
        return Arrays.stream(extra.split(",")).filter(s -> !s.isBlank()).map(Path::of)
                .map(d -> org.junit.jupiter.api.DynamicTest.dynamicTest(d.toString(), () -> compare(d.toString(), d)));
    }

    static void compare(String name, Path dir) throws Exception {
        Tokenizer tok = Fixtures.load(dir);
        try (HuggingFaceTokenizer plain = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "false"));
             HuggingFaceTokenizer special = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "true"))) {
            SplittableRandom r = new SplittableRandom(name.hashCode() * 31L + 7);
            List<String> failures = new ArrayList<>();
            int checked = 0;
            for (int i = 0; i < COUNT; i++) {
                String text = FuzzText.next(r);
                long[] want = plain.encode(text).getIds();
                int[] got = tok.encode(text, false);
                if (!same(want, got)) failures.add("encode " + ReferenceTest.q(text) + " want " + Arrays.toString(want) + " got " + Arrays.toString(got));
                // transformers rebuilds Llama 2's front end (see HfJsonLoader), so Rust's add_special path is not its reference.
                if (!name.equals("llama2") && !name.contains("/")) {
                    long[] wantS = special.encode(text).getIds();
                    int[] gotS = tok.encode(text, true);
                    if (!same(wantS, gotS)) failures.add("special " + ReferenceTest.q(text) + " want " + Arrays.toString(wantS) + " got " + Arrays.toString(gotS));
                }
                String wantD = plain.decode(want, false);
                String gotD = tok.decode(got);
                if (!wantD.equals(gotD)) failures.add("decode " + ReferenceTest.q(text) + " want " + ReferenceTest.q(wantD) + " got " + ReferenceTest.q(gotD));
                checked++;
            }
            System.out.printf("fuzz %s: %d strings, %d mismatches%n", name, checked, failures.size());
            assertEquals(List.of(), failures.subList(0, Math.min(8, failures.size())), failures.size() + " mismatches of " + checked);
        }
    }

    static boolean same(long[] a, int[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
