package jllm.tokenizer;

import jllm.tokenizer.normalizer.Normalizer;
import jllm.tokenizer.pretokenizer.CharClass;
import jllm.tokenizer.util.StringTrie;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text: leftmost-longest matching (as the Aho-Corasick automaton of tokenizers),
 * honouring single_word, lstrip and rstrip. Tokens with normalized=false are matched in the raw text,
 * the others in the normalized text (their content normalized the same way).
 */
final class AddedVocabulary {
    /** A piece of input: either an added token (id >= 0) or text to tokenize (id == -1). */
    record Segment(String text, int id, int start) {}

    private final List<AddedToken> tokens;
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final StringTrie raw = new StringTrie();
    private final StringTrie norm = new StringTrie();
    private final List<AddedToken> indexed = new ArrayList<>();

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        this.tokens = List.copyOf(tokens);
        for (AddedToken t : tokens) {
            byId.put(t.id(), t);
            int idx = indexed.size();
            indexed.add(t);
            if (t.normalized() && normalizer != null) norm.put(normalizer.normalize(t.content()), idx);
            else if (t.normalized()) norm.put(t.content(), idx);
            else raw.put(t.content(), idx);
        }
    }

    List<AddedToken> tokens() { return tokens; }
    AddedToken byId(int id) { return byId.get(id); }
    boolean hasNormalized() { return !norm.isEmpty(); }

    List<Segment> splitRaw(String s) { return split(s, raw, 0); }
    List<Segment> splitNormalized(String s, int base) { return split(s, norm, base); }

    private List<Segment> split(String s, StringTrie trie, int base) {
        List<Segment> out = new ArrayList<>(4);
        if (trie.isEmpty()) {
            out.add(new Segment(s, -1, base));
            return out;
        }
        int textStart = 0;
        int n = s.length();
        for (int i = 0; i < n; ) {
            long m = trie.longest(s, i);
            if (m < 0) { i++; continue; }
            AddedToken t = indexed.get((int) m);
            int start = i, stop = i + (int) (m >>> 32);
            if (t.singleWord()) {
                boolean okL = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean okR = stop == n || !isWordChar(s.codePointAt(stop));
                if (!okL || !okR) { i++; continue; }
            }
            if (t.lstrip()) {
                int a = start;
                while (a > textStart && CharClass.isWhiteSpace(s.codePointBefore(a))) a -= Character.charCount(s.codePointBefore(a));
                start = a;
            }
            if (t.rstrip()) {
                while (stop < n && CharClass.isWhiteSpace(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
            }
            if (start > textStart) out.add(new Segment(s.substring(textStart, start), -1, base + textStart));
            out.add(new Segment(t.content(), t.id(), base + start));
            textStart = stop;
            i = stop;
        }
        if (textStart < n || out.isEmpty()) out.add(new Segment(s.substring(textStart), -1, base + textStart));
        return out;
    }

    private static boolean isWordChar(int c) {
        return Character.isLetterOrDigit(c) || c == '_' || Character.getType(c) == Character.NON_SPACING_MARK;
    }
}
