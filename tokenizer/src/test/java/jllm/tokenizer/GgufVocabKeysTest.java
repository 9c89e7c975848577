package jllm.tokenizer;

import jllm.formats.FormatException;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufValueType;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.export.GgufVocabWriter;
import jllm.tokenizer.export.GgufVocabWriter.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The tokenizer.ggml.* keys themselves: against llama.cpp's own files and llama.cpp's converter rules. */
class GgufVocabKeysTest {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    static Vocabulary read(String name) {
        return GgufVocabExportTest.vocab(name);
    }

    static int id(Vocabulary v, String token) {
        for (int i = 0; i < v.tokens().length; i++) if (v.tokens()[i].equals(token)) return i;
        throw new AssertionError("no token " + token);
    }

    /**
     * ggml-vocab-llama-spm.gguf was written by llama.cpp from Llama 2's tokenizer.model. The llama2
     * fixture's tokenizer.json is a Llama-2-style SentencePiece BPE vocabulary of the same size, specials
     * and byte tokens, but its merged tokens are numbered differently (it is not Meta's file), so only
     * the parts that do not depend on that numbering can agree; the rest is reported.
     */
    @Test
    void llama2AgainstLlamaCppsLlamaSpmFile() {
        Vocabulary v = read("llama2");
        try (GgufFile f = GgufFile.open(Fixtures.root().resolve("llamacpp/vocab/ggml-vocab-llama-spm.gguf"))) {
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            float[] scores = f.getFloatArray("tokenizer.ggml.scores");
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            assertEquals(f.getString("tokenizer.ggml.model", null), v.model());
            assertEquals(f.getString("tokenizer.ggml.pre", null), v.pre());
            assertEquals(tokens.length, v.tokens().length);
            assertEquals(f.getLong("tokenizer.ggml.bos_token_id", -1), (long) v.specialIds().get("bos"));
            assertEquals(f.getLong("tokenizer.ggml.eos_token_id", -1), (long) v.specialIds().get("eos"));
            assertEquals(f.getLong("tokenizer.ggml.unknown_token_id", -1), (long) v.specialIds().get("unk"));
            assertEquals(f.getBool("tokenizer.ggml.add_bos_token", false), v.addSpecial().get("bos"));
            assertEquals(f.getBool("tokenizer.ggml.add_eos_token", true), v.addSpecial().get("eos"));
            // <unk>, <s>, </s> and the 256 byte tokens: same strings, byte types and scores.
            for (int i = 0; i < 259; i++) {
                assertEquals(tokens[i], v.tokens()[i], "token " + i);
                if (i >= 3) {
                    assertEquals(types[i], v.types()[i], "type " + i);
                    assertEquals(scores[i], v.scores()[i], "score " + i);
                }
            }
            assertEquals(CONTROL, v.types()[1]);
            assertEquals(CONTROL, v.types()[2]);
            int sameText = 0, sameType = 0;
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i].equals(v.tokens()[i])) sameText++;
                if (types[i] == v.types()[i]) sameType++;
            }
            Set<String> a = new HashSet<>(Arrays.asList(tokens)), b = new HashSet<>(Arrays.asList(v.tokens()));
            Set<String> onlyLlamaCpp = new HashSet<>(a), onlyOurs = new HashSet<>(b);
            onlyLlamaCpp.removeAll(b);
            onlyOurs.removeAll(a);
            Set<String> keys = new HashSet<>();
            for (String k : f.keys()) if (k.startsWith("tokenizer.")) keys.add(k);
            System.out.printf("llama-spm vs llama2 export: %d tokens; same text at same id %d, same type %d; "
                            + "token sets differ by %d/%d; <unk> type llama.cpp file %d, ours %d (score %s vs %s); llama.cpp keys %s%n",
                    tokens.length, sameText, sameType, onlyLlamaCpp.size(), onlyOurs.size(), types[0], v.types()[0],
                    scores[0], v.scores()[0], keys);
        }
    }

    /**
     * Llama 2's real tokenizer.model (llama2c fixture) through the SentencePiece path, key by key against
     * the file llama.cpp's converter wrote from it, then llama.cpp's test vectors on the exported GGUF.
     */
    @Test
    void llama2TokenizerModelEqualsLlamaCppsFileKeyByKey(@TempDir Path dir) throws IOException {
        Files.copy(Fixtures.root().resolve("llama2c/tokenizer.model"), dir.resolve("tokenizer.model"));
        Vocabulary v = GgufVocabWriter.read(dir);
        Path spm = Fixtures.root().resolve("llamacpp/vocab/ggml-vocab-llama-spm.gguf");
        try (GgufFile f = GgufFile.open(spm)) {
            assertEquals(f.getString("tokenizer.ggml.model", null), v.model());
            assertEquals(f.getString("tokenizer.ggml.pre", null), v.pre());
            assertArrayEquals(f.getStringArray("tokenizer.ggml.tokens"), v.tokens());
            assertArrayEquals(f.getFloatArray("tokenizer.ggml.scores"), v.scores());
            assertArrayEquals(f.getIntArray("tokenizer.ggml.token_type"), v.types());
            assertEquals(f.getLong("tokenizer.ggml.bos_token_id", -1), (long) v.specialIds().get("bos"));
            assertEquals(f.getLong("tokenizer.ggml.eos_token_id", -1), (long) v.specialIds().get("eos"));
            assertEquals(f.getLong("tokenizer.ggml.unknown_token_id", -1), (long) v.specialIds().get("unk"));
            assertEquals(f.getBool("tokenizer.ggml.add_bos_token", false), v.addSpecial().get("bos"));
            assertEquals(f.getBool("tokenizer.ggml.add_eos_token", true), v.addSpecial().get("eos"));
            assertEquals(true, v.addSpacePrefix(), "llama.cpp's default for a file without the key");
        }
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", "llama");
        GgufVocabWriter.write(v, w);
        w.write(dir.resolve("v.gguf"));
        LlamaCppVocabTest.check(Tokenizer.load(dir.resolve("v.gguf")), spm.resolveSibling("ggml-vocab-llama-spm.gguf.inp"));
    }

    @Test
    void gemma3TypesIdsAndFlags() throws IOException {
        Vocabulary v = read("gemma3");
        assertEquals("llama", v.model());
        assertEquals(262145, v.tokens().length);
        assertEquals(CONTROL, v.types()[id(v, "<bos>")]);
        assertEquals(CONTROL, v.types()[id(v, "<start_of_turn>")]);
        assertEquals(CONTROL, v.types()[id(v, "<mask>")], "looks special although not marked special");
        assertEquals(CONTROL, v.types()[id(v, "<unused0>")]);
        assertEquals(USER_DEFINED, v.types()[id(v, "[multimodal]")]);
        assertEquals(BYTE, v.types()[id(v, "<0x41>")]);
        assertEquals(-1000f, v.scores()[id(v, "<bos>")]);
        assertEquals(Map.of("bos", 2, "eos", id(v, "<end_of_turn>"), "unk", 3, "pad", 0), v.specialIds());
        assertEquals(true, v.addSpecial().get("bos"));
        assertEquals(false, v.addSpecial().get("eos"));
        assertEquals(false, v.addSpacePrefix());
        assertEquals(Fixtures.hf("gemma3").chatTemplate().orElseThrow(), v.chatTemplates().get("default"));
    }

    @Test
    void qwen3AndLlama3() {
        Vocabulary q = read("qwen3");
        assertEquals("gpt2", q.model());
        assertEquals("qwen2", q.pre());
        assertNull(q.scores());
        assertEquals(151387, q.merges().length);
        assertEquals(CONTROL, q.types()[id(q, "<|im_end|>")]);
        assertEquals(CONTROL, q.types()[id(q, "<|fim_prefix|>")], "not special in tokenizer.json but looks special");
        assertEquals(USER_DEFINED, q.types()[id(q, "<think>")]);
        assertEquals(NORMAL, q.types()[id(q, "Ġthe")]);
        assertEquals(Map.of("eos", 151645, "pad", 151643), q.specialIds());
        assertEquals(false, q.addSpecial().get("bos"));
        assertEquals(false, q.addSpacePrefix());

        Vocabulary l = read("llama3");
        assertEquals("llama-bpe", l.pre());
        assertEquals(128256, l.tokens().length);
        assertEquals(280147, l.merges().length);
        assertEquals("Ġ Ġ", l.merges()[0]);
        assertEquals(Map.of("bos", 128000, "eos", 128001), l.specialIds());
        // This tokenizer.json has no BOS template, so tokenizer(text) adds none; llama.cpp's llama-bpe default would.
        assertEquals(false, l.addSpecial().get("bos"));
        assertNull(l.addSpacePrefix());
    }

    /** Padding to config.json's vocab_size, pair-form merges with spaces, named chat templates. */
    @Test
    void smallByteLevelTokenizerWithPaddingAndNamedTemplates(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġa": 4}, "merges": [["a", "b"], ["Ġ", "a"]]},
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
                 "decoder": {"type": "ByteLevel"},
                 "added_tokens": [{"id": 5, "content": "<|eot|>", "special": true}, {"id": 6, "content": "<tool>", "special": false}]}
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"eos_token": "<|eot|>", "chat_template": [{"name": "default", "template": "D"}, {"name": "tool use", "template": "T"}]}
                """);
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 9, \"bos_token_id\": 0}");
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", "llama");
        GgufVocabWriter.addTo(dir, w);
        Path out = dir.resolve("v.gguf");
        w.write(out);
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals("gpt2", f.getString("tokenizer.ggml.model", null));
            assertEquals("gpt-2", f.getString("tokenizer.ggml.pre", null));
            assertEquals(List.of("a", "b", "ab", "Ġ", "Ġa", "<|eot|>", "<tool>", "[PAD7]", "[PAD8]"), List.of(f.getStringArray("tokenizer.ggml.tokens")));
            assertArrayEquals(new int[] {1, 1, 1, 1, 1, CONTROL, USER_DEFINED, UNUSED, UNUSED}, f.getIntArray("tokenizer.ggml.token_type"));
            assertEquals(List.of("a b", "Ġ a"), List.of(f.getStringArray("tokenizer.ggml.merges")));
            assertEquals(5, f.getLong("tokenizer.ggml.eos_token_id", -1));
            assertEquals(0, f.getLong("tokenizer.ggml.bos_token_id", -1), "from config.json when tokenizer_config has none");
            assertEquals(GgufValueType.UINT32, f.type("tokenizer.ggml.eos_token_id"));
            assertEquals("D", f.getString("tokenizer.chat_template", null));
            assertEquals("T", f.getString("tokenizer.chat_template.tool_use", null));
            assertEquals(List.of("tool_use"), List.of(f.getStringArray("tokenizer.chat_templates")));
            assertFalse(f.getBool("tokenizer.ggml.add_bos_token", true));
        }
        Tokenizer t = Tokenizer.load(out);
        assertArrayEquals(new int[] {2, 4, 5, 6}, t.encode("ab a<|eot|><tool>", false));
    }

    /** WordPiece: llama.cpp's phantom-space vocabulary (as in ggml-vocab-bert-bge.gguf), CLS/SEP as BOS/EOS. */
    @Test
    void wordPieceExportsAsBert(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                           "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "##s": 5, "world": 6, ",": 7}},
                 "normalizer": {"type": "BertNormalizer", "lowercase": true},
                 "pre_tokenizer": {"type": "BertPreTokenizer"},
                 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                     "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
                 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
                 "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true},
                                  {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}]}
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]"}
                """);
        Vocabulary v = GgufVocabWriter.read(dir);
        assertEquals("bert", v.model());
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "\u2581hello", "s", "\u2581world", "\u2581,"), List.of(v.tokens()));
        assertEquals(Map.of("bos", 2, "eos", 3, "unk", 1, "sep", 3, "pad", 0, "cls", 2), v.specialIds());
        assertEquals(true, v.addSpecial().get("bos"));
        assertEquals(true, v.addSpecial().get("eos"));
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", "bert");
        GgufVocabWriter.write(v, w);
        w.write(dir.resolve("v.gguf"));
        Tokenizer g = Tokenizer.load(dir.resolve("v.gguf")), h = Tokenizer.load(dir.resolve("tokenizer.json"));
        for (String text : List.of("Hello worlds", "hello, world", "HELLO")) {
            assertArrayEquals(h.encode(text, true), g.encode(text, true), text);
            assertArrayEquals(h.encode(text, false), g.encode(text, false), text);
        }
    }

    /** Unigram: Unigram log-probabilities as scores, unk as UNKNOWN, model "t5". */
    @Test
    void unigramExportsAsT5(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["</s>", 0.0], ["\u2581", -2.0], ["a", -3.0], ["b", -3.5],
                           ["\u2581ab", -2.5], ["ab", -4.0], ["\u2581a", -3.2], ["c", -5.0]]},
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                     "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
                 "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "</s>", "special": true}]}
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\", \"unk_token\": \"<unk>\"}");
        Vocabulary v = GgufVocabWriter.read(dir);
        assertEquals("t5", v.model());
        assertEquals(-2.5f, v.scores()[5]);
        assertEquals(Map.of("eos", 1, "unk", 0), v.specialIds());
        assertEquals(true, v.addSpecial().get("eos"));
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", "t5");
        GgufVocabWriter.write(v, w);
        w.write(dir.resolve("v.gguf"));
        Tokenizer g = Tokenizer.load(dir.resolve("v.gguf")), h = Tokenizer.load(dir.resolve("tokenizer.json"));
        for (String text : List.of("ab ab", "a b c", "abab", "ba")) {
            assertArrayEquals(h.encode(text, false), g.encode(text, false), text);
            assertArrayEquals(h.encode(text, true), g.encode(text, true), text);
            assertEquals(h.decode(h.encode(text, false)), g.decode(h.encode(text, false)), text);
        }
    }

    @Test
    void noTokenizerWritesNothingAndBrokenOnesFailClearly(@TempDir Path dir) throws IOException {
        GgufWriter w = new GgufWriter();
        GgufVocabWriter.addTo(dir, w);
        assertFalse(w.has("tokenizer.ggml.model"));

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0");
        FormatException e = assertThrows(FormatException.class, () -> GgufVocabWriter.addTo(dir, new GgufWriter()));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("not valid JSON"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"ab\"]},"
                + " \"decoder\": {\"type\": \"ByteLevel\"}}");
        e = assertThrows(FormatException.class, () -> GgufVocabWriter.addTo(dir, new GgufWriter()));
        assertTrue(e.getMessage().contains("merge #0"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": []}}");
        e = assertThrows(FormatException.class, () -> GgufVocabWriter.addTo(dir, new GgufWriter()));
        assertTrue(e.getMessage().contains("neither byte-level nor byte_fallback"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": 1}}}");
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 1}");
        e = assertThrows(FormatException.class, () -> GgufVocabWriter.addTo(dir, new GgufWriter()));
        assertTrue(e.getMessage().contains("vocab_size is 1"), e.getMessage());
    }
}
