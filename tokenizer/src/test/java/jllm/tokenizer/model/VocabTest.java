package jllm.tokenizer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The text index of {@link Vocab} against a plain map, and the merge tables built through it. */
class VocabTest {
    @Test
    void lookupsAgreeWithAMapOnManyTexts() {
        Random rnd = new Random(7);
        String[] tokens = new String[20000];
        Map<String, Integer> first = new LinkedHashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            StringBuilder b = new StringBuilder();
            int n = 1 + rnd.nextInt(6);
            for (int k = 0; k < n; k++) b.append((char) (rnd.nextInt(4) == 0 ? 0x4e00 + rnd.nextInt(50) : 'a' + rnd.nextInt(6)));
            tokens[i] = b.toString();  // short texts over few letters: many repeats and hash neighbours
            first.putIfAbsent(tokens[i], i);
        }
        Vocab v = Vocab.of(tokens);
        for (int i = 0; i < tokens.length; i++) {
            assertEquals(first.get(tokens[i]), v.id(tokens[i]), tokens[i]);
            assertEquals(tokens[i], v.token(i), "a repeated text keeps its own id for token(id)");
        }
        for (int q = 0; q < 20000; q++) {
            String a = tokens[rnd.nextInt(tokens.length)], b = tokens[rnd.nextInt(tokens.length)], ab = a + " " + b;
            int expect = first.getOrDefault(a + b, -1);
            assertEquals(expect, v.id(a + b));
            assertEquals(expect, v.id(ab, 0, a.length(), ab, a.length() + 1, ab.length()), ab);
            assertEquals(first.getOrDefault(b, -1), v.id(ab, a.length() + 1, ab.length()));
        }
        assertEquals(-1, v.id("not there"));
    }

    @Test
    void textsCraftedToShareOneHashLoadInLinearTime() {
        // "Aa" and "BB" have the same String.hashCode, so do all 2^15 strings of 15 such pieces
        int n = 1 << 15;
        String[] tokens = new String[n + 1];
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < 15; k++) b.append((i >> k & 1) == 0 ? "Aa" : "BB");
            tokens[i] = b.toString();
        }
        tokens[n] = tokens[5];
        assertEquals(tokens[0].hashCode(), tokens[n - 1].hashCode());
        Vocab v = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> Vocab.of(tokens));
        for (int i = 0; i < n; i += 97) assertEquals(i, v.id(tokens[i]));
        assertEquals(5, v.id(tokens[n]), "the first of a repeated text keeps its id");
        String t = tokens[1234];
        assertEquals(1234, v.id("x" + t, 1, t.length() + 1));
        assertEquals(1234, v.id(t.substring(0, 10) + " " + t.substring(10), 0, 10, t.substring(0, 10) + " " + t.substring(10), 11, t.length() + 1));
        assertEquals(-1, v.id("AaAa"));
    }

    @Test
    void textsSharingAnIdBothFindIt() {
        Map<String, Integer> ids = new LinkedHashMap<>();
        ids.put("a", 0);
        ids.put("b", 2);
        ids.put("alias", 2);
        Vocab v = new Vocab(ids);
        assertEquals(2, v.id("b"));
        assertEquals(2, v.id("alias"));
        assertEquals(0, v.id("xa", 1, 2));
        assertEquals(-1, v.id("c"));
        assertEquals(3, v.size());
    }

    @Test
    void mergesFromLinesMatchMergesFromPairs() {
        Vocab v = Vocab.of(new String[] {"a", "b", "ab", "c", "abc", "bc"});
        String[] lines = {"a b", "ab c", "b c", "a b"};
        String[][] pairs = {{"a", "b"}, {"ab", "c"}, {"b", "c"}, {"a", "b"}};
        var fromLines = Bpe.mergesFromLines(v, lines);
        var fromPairs = Bpe.mergesFromPairs(v, pairs, null);
        for (String[] p : pairs) {
            long key = ((long) v.id(p[0]) << 32) | v.id(p[1]);
            assertEquals(fromPairs.get(key, -1), fromLines.get(key, -1), String.join(" ", p));
        }
        assertEquals(((long) 0 << 32) | 2, fromLines.get(((long) 0 << 32) | 1, -1), "the first rank of a repeated merge wins");
        assertThrows(jllm.formats.FormatException.class, () -> Bpe.mergesFromLines(v, new String[] {"a c"}));
        assertThrows(jllm.formats.FormatException.class, () -> Bpe.mergesFromLines(v, new String[] {"abc"}));
    }
}
