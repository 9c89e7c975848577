package jllm.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * llama.cpp's tokenizer test vectors (llamacpp/vocab/*.inp / .out) for every GGUF present; the
 * llama-bpe and qwen2 vectors (no GGUF here) run against the Llama 3 and Qwen3 tokenizer.json.
 */
class LlamaCppVocabTest {
    static final Path DIR = Fixtures.root().resolve("llamacpp/vocab");

    record Case(String text, int[] ids) {}

    static List<Case> cases(Path inp) throws IOException {
        String in = Files.readString(inp, StandardCharsets.UTF_8);
        String[] texts = in.split("\n__ggml_vocab_test__\n", -1);
        List<String> outs = Files.readAllLines(Path.of(inp.toString().replace(".inp", ".out")), StandardCharsets.UTF_8);
        List<Case> r = new ArrayList<>();
        for (int i = 0; i < texts.length - 1; i++) {
            String line = outs.get(i).trim();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            r.add(new Case(texts[i], ids));
        }
        return r;
    }

    static void check(Tokenizer tok, Path inp) throws IOException {
        List<String> failures = new ArrayList<>();
        List<Case> cs = cases(inp);
        for (Case c : cs) {
            int[] got = tok.encode(c.text(), false);
            if (!Arrays.equals(c.ids(), got)) failures.add(ReferenceTest.q(c.text()) + " want " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
        }
        System.out.printf("llama.cpp vectors %s: %d/%d pass%n", inp.getFileName(), cs.size() - failures.size(), cs.size());
        assertEquals(List.of(), failures.subList(0, Math.min(6, failures.size())), failures.size() + " of " + cs.size() + " failed");
    }

    @TestFactory
    Stream<DynamicTest> everyGgufWithVectors() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.filter(p -> p.toString().endsWith(".gguf") && Files.exists(Path.of(p + ".inp"))).sorted()
                    .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(),
                            () -> check(Fixtures.load(p), Path.of(p + ".inp"))))
                    .toList().stream();
        }
    }

    @TestFactory
    Stream<DynamicTest> vectorsWithoutGgufOnTokenizerJson() {
        return Stream.of(new String[] {"llama-bpe", "llama3"}, new String[] {"qwen2", "qwen3"})
                .map(x -> DynamicTest.dynamicTest(x[0] + " on " + x[1],
                        () -> check(Fixtures.hf(x[1]), DIR.resolve("ggml-vocab-" + x[0] + ".gguf.inp"))));
    }

    /** llama2c/tokenizer.model and tokenizer.bin hold the Llama 2 vocabulary: the llama-spm vectors apply. */
    @TestFactory
    Stream<DynamicTest> llama2VocabularyInOtherFormats() {
        Path spm = DIR.resolve("ggml-vocab-llama-spm.gguf.inp");
        return Stream.of("tokenizer.model", "tokenizer.bin").map(f -> DynamicTest.dynamicTest(f,
                () -> check(Fixtures.load(Fixtures.root().resolve("llama2c").resolve(f)), spm)));
    }
}
