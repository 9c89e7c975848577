package jllm.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class StreamDecoderTest {
    @ParameterizedTest
    @ValueSource(strings = {"tokenizers/llama2", "tokenizers/llama3", "tokenizers/gemma3", "tokenizers/qwen3",
            "llamacpp/vocab/ggml-vocab-llama-spm.gguf", "llamacpp/vocab/ggml-vocab-gpt-2.gguf", "llama2c/tokenizer.bin"})
    void streamedTextEqualsFullDecode(String path) {
        Tokenizer t = Fixtures.load(Fixtures.root().resolve(path));
        SplittableRandom r = new SplittableRandom(11);
        for (int k = 0; k < 200; k++) {
            String text = FuzzText.next(r);
            int[] ids = t.encode(text, true);
            StreamDecoder d = t.streamDecoder(false);
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String piece = d.push(id);
                assertFalse(piece.endsWith("\uFFFD") && !t.decode(ids).contains("\uFFFD"), "held back incomplete char");
                out.append(piece);
            }
            out.append(d.flush());
            assertEquals(t.decode(ids), out.toString(), path + " " + ReferenceTest.q(text));
        }
    }
}
