package jllm.tokenizer;

import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.load.GgufVocabExport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** tokenizer.json -> GGUF metadata -> GGUF tokenizer gives the same ids as the tokenizer.json. */
class GgufExportTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "llama2"})
    void roundTripsThroughGguf(String name) {
        Path dir = Fixtures.root().resolve("tokenizers").resolve(name);
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", "llama");
        GgufVocabExport.write(dir, w);
        Path out = tmp.resolve(name + ".gguf");
        w.write(out);
        Tokenizer gguf = Tokenizer.load(out);
        Tokenizer hf = Fixtures.hf(name);
        List<String> failures = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(5);
        int n = 0;
        for (var c : Fixtures.reference().path("models").path(name).path("cases")) {
            check(hf, gguf, c.get("text").asText(), failures);
            n++;
        }
        for (int i = 0; i < 500; i++, n++) check(hf, gguf, FuzzText.next(r), failures);
        assertEquals(hf.bosId(), gguf.bosId());
        assertEquals(hf.chatTemplate(), gguf.chatTemplate());
        System.out.printf("gguf export %s: %d/%d same ids%n", name, n - failures.size(), n);
        assertEquals(List.of(), failures.subList(0, Math.min(5, failures.size())), failures.size() + " of " + n);
    }

    /**
     * Compared without special tokens and on NFC text: llama.cpp has no normalizer for BPE vocabularies
     * (Qwen's NFC) and follows tokenizers' per-segment space prefix rather than transformers' rebuilt one.
     */
    static void check(Tokenizer hf, Tokenizer gguf, String text, List<String> failures) {
        text = java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC);
        int[] want = hf.encode(text, false), got = gguf.encode(text, false);
        if (!Arrays.equals(want, got)) failures.add(ReferenceTest.q(text) + " want " + Arrays.toString(want) + " got " + Arrays.toString(got));
    }
}
