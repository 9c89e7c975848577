package jllm.tokenizer.train;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Fixtures;
import jllm.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Trained tokenizers are checked against the Rust {@code tokenizers} library (through DJL): it loads the
 * written tokenizer.json and must encode every line of Tiny Shakespeare and every tricky corpus string
 * to the same ids as jllm's own tokenizer, and decoding must give the text back.
 */
class TokenizerTrainerTest {
    static String shakespeare;
    static List<String> tricky = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        shakespeare = TextFile.readUtf8(Fixtures.root().resolve("datasets/tinyshakespeare.txt"));
        ObjectMapper om = new ObjectMapper();
        for (String line : Files.readAllLines(Fixtures.root().resolve("tokenizers/corpus.jsonl"))) {
            if (!line.isBlank()) tricky.add(om.readTree(line).get("text").asText());
        }
    }

    @ParameterizedTest
    @EnumSource(TokenizerTrainer.Kind.class)
    void rustTokenizersEncodeIdentically(TokenizerTrainer.Kind kind, @TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        TrainedTokenizer trained = TokenizerTrainer.train(shakespeare, TokenizerTrainer.Options.of(kind, 1024), null);
        System.out.printf("%s vocab %d trained in %.2f s%n", kind, trained.vocabSize(), (System.nanoTime() - t0) / 1e9);
        assertEquals(1024, trained.vocabSize());
        Path out = dir.resolve("tok");
        trained.write(out, false, List.of());
        Tokenizer ours = Tokenizer.load(out);
        assertRustAgrees(out, ours, kind);
        assertEquals(trained.id("<|bos|>"), ours.encode("x", true)[0]);
        assertEquals(trained.id("<|eos|>"), ours.eosId().getAsInt());
        assertNotEquals(ours.eosId().getAsInt(), trained.id("<|pad|>"));
    }

    /**
     * The tokenizer that ships with jllm's default model (models/default, trained by
     * {@code jllm tokenizer train} on the first 90% of Tiny Shakespeare) encodes like Rust tokenizers.
     */
    @Test
    void defaultModelTokenizerEncodesLikeRust() throws Exception {
        Path dir = Path.of(System.getProperty("jllm.root", "..")).resolve("models/default");
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")), "no tokenizer.json in " + dir);
        assertRustAgrees(dir, Tokenizer.load(dir), TokenizerTrainer.Kind.BYTE_LEVEL);
    }

    /** Every Tiny Shakespeare line and tricky string: same ids with and without specials, same decoding, lossless. */
    static void assertRustAgrees(Path dir, Tokenizer ours, TokenizerTrainer.Kind kind) throws Exception {
        List<String> texts = new ArrayList<>(shakespeare.lines().toList());
        texts.addAll(tricky);
        texts.add(shakespeare.substring(0, 5000));
        List<String> failures = new ArrayList<>();
        try (HuggingFaceTokenizer plain = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "false", "truncation", "false"));
             HuggingFaceTokenizer special = HuggingFaceTokenizer.newInstance(dir, Map.of("addSpecialTokens", "true", "truncation", "false"))) {
            for (String text : texts) {
                long[] want = plain.encode(text).getIds();
                int[] got = ours.encode(text, false);
                if (!same(want, got)) failures.add("encode " + text + ": rust " + Arrays.toString(want) + " jllm " + Arrays.toString(got));
                long[] wantS = special.encode(text).getIds();
                int[] gotS = ours.encode(text, true);
                if (!same(wantS, gotS)) failures.add("special " + text + ": rust " + Arrays.toString(wantS) + " jllm " + Arrays.toString(gotS));
                String back = ours.decode(got);
                String rustBack = plain.decode(want, false);
                if (!rustBack.equals(back)) failures.add("decode " + text + ": rust " + rustBack + " jllm " + back);
                if (!back.equals(expectedRoundTrip(kind, text))) failures.add("round trip " + text + " -> " + back);
            }
        }
        assertEquals(List.of(), failures.subList(0, Math.min(5, failures.size())), failures.size() + " failures of " + texts.size());
    }

    /**
     * Byte-level BPE is lossless. SentencePiece-style text loses what its normalisation rewrites: a
     * literal "▁" decodes as a space, and a lone surrogate (not UTF-8 encodable) becomes U+FFFD in both.
     */
    static String expectedRoundTrip(TokenizerTrainer.Kind kind, String text) {
        String t = jllm.tokenizer.util.Utf8.sanitize(text);
        return kind == TokenizerTrainer.Kind.BYTE_LEVEL ? t : t.replace('\u2581', ' ');
    }

    @Test
    void deterministic() {
        String text = shakespeare.substring(0, 200_000);
        var a = TokenizerTrainer.train(text, TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 600), null);
        var b = TokenizerTrainer.train(text, TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 600), null);
        assertEquals(a.tokens, b.tokens);
        assertEquals(a.merges.size(), b.merges.size());
        for (int i = 0; i < a.merges.size(); i++) assertArrayEquals(a.merges.get(i), b.merges.get(i));
    }

    @Test
    void mostFrequentPairMergesFirst() {
        var t = TokenizerTrainer.train("the the the then then a", TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 263), null);
        // pieces: "the" x3 (as "the" and " the"), " then" x2, " a": "t h" and "h e" occur 5 times each; ties go to the smaller ids.
        assertArrayEquals(new String[] {"h", "e"}, t.merges.get(0));
        assertArrayEquals(new String[] {"t", "he"}, t.merges.get(1));
    }

    @Test
    void tooSmallVocabularyIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerTrainer.train("abc", TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 100), null));
        assertTrue(e.getMessage().contains("259"), e.getMessage());
    }

    @Test
    void smallCorpusStopsEarlyWithAWarning() {
        List<String> log = new ArrayList<>();
        var t = TokenizerTrainer.train("abab", TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 1000), log::add);
        assertEquals(260, t.vocabSize());
        assertTrue(log.stream().anyMatch(s -> s.startsWith("warning:")), log.toString());
    }

    static boolean same(long[] a, int[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
