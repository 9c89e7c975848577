package jllm.tokenizer.model;

import java.util.HashMap;
import java.util.Map;

/** Bidirectional token table. Ids may be sparse; the array is sized to the largest id + 1. */
public final class Vocab {
    /**
     * Ids beyond this are refused: the table is sized by the largest id, so one id of 2,000,000,000 in
     * a hostile file would otherwise ask for gigabytes. Real vocabularies stay below 2^19.
     */
    public static final int MAX_ID = (1 << 24) - 1;

    final Map<String, Integer> ids;
    final String[] tokens;

    public Vocab(Map<String, Integer> ids) {
        this.ids = ids;
        int max = -1;
        for (var e : ids.entrySet()) {
            int v = e.getValue();
            if (v < 0 || v > MAX_ID) throw new jllm.formats.FormatException(outOfRange("token '" + e.getKey() + "'", v));
            max = Math.max(max, v);
        }
        tokens = new String[max + 1];
        for (var e : ids.entrySet()) tokens[e.getValue()] = e.getKey();
    }

    public static Vocab of(String[] tokens) {
        Map<String, Integer> m = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) m.putIfAbsent(tokens[i], i);
        Vocab v = new Vocab(m);
        // Keep duplicates addressable by id (GGUF vocabularies may repeat a string).
        System.arraycopy(tokens, 0, v.tokens, 0, Math.min(tokens.length, v.tokens.length));
        return v.tokens.length == tokens.length ? v : new Vocab(m, tokens);
    }

    private Vocab(Map<String, Integer> ids, String[] tokens) {
        this.ids = ids;
        this.tokens = tokens.clone();
    }

    /** The message for a token id outside 0..MAX_ID. */
    public static String outOfRange(String what, long id) {
        return what + " has id " + id + ", outside 0.." + MAX_ID + " (no real vocabulary is that large)";
    }

    public int id(String token) {
        Integer i = ids.get(token);
        return i == null ? -1 : i;
    }

    public String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    public int size() { return tokens.length; }
}
