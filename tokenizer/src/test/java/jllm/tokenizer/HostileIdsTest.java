package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Absurd token ids (the vocabulary table is sized by the largest id, so one id of 2,000,000,000 would
 * ask for gigabytes), Unigram tokenizers that must never emit an id outside their vocabulary, and
 * files that are not UTF-8.
 */
class HostileIdsTest {
    @TempDir Path tmp;

    Path json(String body) throws Exception {
        Path d = Files.createTempDirectory(tmp, "tj");
        Files.writeString(d.resolve("tokenizer.json"), body);
        return d;
    }

    static String bpe(String vocab, String added) {
        return "{\"added_tokens\":" + added + ",\"model\":{\"type\":\"BPE\",\"vocab\":" + vocab + ",\"merges\":[]}}";
    }

    static String unigram(String unkId, String byteFallback) {
        return "{\"model\":{\"type\":\"Unigram\",\"unk_id\":" + unkId + ",\"byte_fallback\":" + byteFallback
                + ",\"vocab\":[[\"<unk>\",0],[\"a\",-1],[\"b\",-2]]}}";
    }

    String error(Path p) {
        String m = assertThrows(FormatException.class, () -> Tokenizer.load(p)).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void hugeIdsAreRefusedBeforeAnythingIsAllocated() throws Exception {
        String m = error(json(bpe("{\"a\":0,\"b\":2000000000}", "[]")));
        assertTrue(m.contains("tokenizer.json") && m.contains("'b' has id 2000000000"), m);
        m = error(json(bpe("{\"a\":0,\"b\":1}", "[{\"id\":2000000000,\"content\":\"<x>\",\"special\":true}]")));
        assertTrue(m.contains("added token \"<x>\" has id 2000000000"), m);
        m = error(json(bpe("{\"a\":0,\"b\":1}", "[{\"id\":-5,\"content\":\"<x>\"}]")));
        assertTrue(m.contains("has id -5"), m);
        m = error(json(bpe("{\"a\":0,\"b\":99999999999}", "[]")));
        assertTrue(m.contains("tokenizer.json"), m);
    }

    @Test
    void unigramNeverEmitsAnIdOutsideItsVocabulary() throws Exception {
        // an unk_id past the vocabulary is refused when loading
        String m = error(json(unigram("7", "false")));
        assertTrue(m.contains("unk_id 7"), m);
        // no unknown token: text it cannot cover is an error (as in tokenizers), never id -1
        Tokenizer noUnk = Tokenizer.load(json(unigram("null", "false")));
        assertArrayEquals(new int[] {1, 2}, noUnk.encode("ab", false));
        var e = assertThrows(IllegalArgumentException.class, () -> noUnk.encode("abz", false));
        assertTrue(e.getMessage().contains("cannot encode 'z'"), e.getMessage());
        // byte fallback without byte tokens falls back to the unknown token, which exists here
        Tokenizer withUnk = Tokenizer.load(json(unigram("0", "true")));
        for (int id : withUnk.encode("zaé", false)) assertTrue(id >= 0 && id < withUnk.vocabSize(), "id " + id);
    }

    @Test
    void invalidUtf8InAJsonFileNamesTheLineAndColumn() throws Exception {
        Path d = Files.createTempDirectory(tmp, "bad");
        Files.write(d.resolve("tokenizer.json"), "{\"model\":\n {\"type\": \"BPE\", \"vocab\": {\"a\u00ff\": 0}}}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        String m = error(d);
        assertTrue(m.contains("tokenizer.json:2: not valid UTF-8 (byte 0xFF"), m);
        assertFalse(m.contains("Source:") || m.contains("REDACTED"), m);
    }
}
