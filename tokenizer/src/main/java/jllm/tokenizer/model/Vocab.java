package jllm.tokenizer.model;

import java.util.HashMap;
import java.util.Map;

/** Bidirectional token table. Ids may be sparse; the array is sized to the largest id + 1. */
public final class Vocab {
    final Map<String, Integer> ids;
    final String[] tokens;

    public Vocab(Map<String, Integer> ids) {
        this.ids = ids;
        int max = -1;
        for (int v : ids.values()) max = Math.max(max, v);
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

    public int id(String token) {
        Integer i = ids.get(token);
        return i == null ? -1 : i;
    }

    public String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    public int size() { return tokens.length; }
}
