package jllm.tokenizer.train;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import jllm.tokenizer.pretokenizer.Behavior;
import jllm.tokenizer.pretokenizer.ByteLevel;
import jllm.tokenizer.pretokenizer.KnownPatterns;
import jllm.tokenizer.pretokenizer.Metaspace;
import jllm.tokenizer.pretokenizer.PreTokenizer;
import jllm.tokenizer.pretokenizer.Split;

/**
 * Trains a BPE tokenizer on a text corpus, in one of two shapes that Hugging Face {@code tokenizers},
 * transformers and llama.cpp all load:
 * <ul>
 *   <li>{@link Kind#BYTE_LEVEL} (GPT-2 / Llama 3): the text is split with Llama 3's regex, every UTF-8
 *       byte is a base symbol (so any input encodes, nothing is unknown), merges are learned on bytes.</li>
 *   <li>{@link Kind#BYTE_FALLBACK} (SentencePiece-style BPE, Llama 2 / Mistral): spaces become "▁" and
 *       start a new word, the characters covering {@link #CHARACTER_COVERAGE} of the corpus are base
 *       symbols, rarer characters fall back to {@code <0xXX>} byte tokens at encoding time.</li>
 * </ul>
 * The pre-tokenization used for training is the very code jllm encodes with, so every merge learned is
 * reachable when encoding. Special tokens come first in the vocabulary (ids 0, 1, 2, ...), see
 * {@link #DEFAULT_SPECIALS} for the names and why.
 */
public final class TokenizerTrainer {
    public enum Kind { BYTE_LEVEL, BYTE_FALLBACK }

    /**
     * bos, eos, pad. Spelled {@code <|...|>} like Llama 3 / Qwen / Phi special tokens: no natural text or
     * markup contains them (unlike {@code <s>}, an HTML tag that a corpus or a user prompt can hold and
     * that would then be swallowed as a control token); pad is its own token, because pad = eos teaches a
     * model never to stop.
     */
    public static final List<String> DEFAULT_SPECIALS = List.of("<|bos|>", "<|eos|>", "<|pad|>");
    /** Byte-fallback tokenizers also need an unknown token (tokenizers' BPE requires one to fall back). */
    public static final String UNK = "<|unk|>";
    /** SentencePiece's default: characters covering this share of the corpus become base symbols. */
    public static final double CHARACTER_COVERAGE = 0.9995;

    /**
     * @param specials   bos, eos, pad, then any extra special tokens (e.g. chat markers)
     * @param addBos     whether encoding with special tokens prepends bos (the post-processor)
     * @param minCount   a pair must occur at least this often to be merged
     */
    public record Options(Kind kind, int vocabSize, List<String> specials, boolean addBos, String chatTemplate, long minCount) {
        public Options {
            if (specials.size() < 3) throw new IllegalArgumentException("need bos, eos and pad special tokens");
            if (new LinkedHashSet<>(specials).size() != specials.size()) throw new IllegalArgumentException("special tokens must be distinct: " + specials);
            for (String s : specials) if (s.isEmpty()) throw new IllegalArgumentException("a special token is empty");
            if (minCount < 1) throw new IllegalArgumentException("minCount must be >= 1");
        }

        public static Options of(Kind kind, int vocabSize) {
            return new Options(kind, vocabSize, DEFAULT_SPECIALS, true, null, 2);
        }

        public Options withChatTemplate(String t) { return new Options(kind, vocabSize, specials, addBos, t, minCount); }
    }

    private TokenizerTrainer() { }

    /** The smallest vocabulary a kind can have for this corpus (specials + base alphabet). */
    public static int minimumVocab(Kind kind, int specials, int alphabet) {
        return kind == Kind.BYTE_LEVEL ? specials + 256 : specials + 1 + 256 + alphabet;
    }

    public static TrainedTokenizer train(String text, Options opt, Consumer<String> log) {
        Map<String, long[]> counts = countWords(text, opt);
        return opt.kind == Kind.BYTE_LEVEL ? byteLevel(counts, opt, log) : byteFallback(counts, text, opt, log);
    }

    /** Word (pre-token) frequencies; special-token strings in the corpus are cut out like the encoder does. */
    static Map<String, long[]> countWords(String text, Options opt) {
        PreTokenizer pre = opt.kind == Kind.BYTE_LEVEL
                ? new Split(KnownPatterns.scannerFor(KnownPatterns.LLAMA3), Behavior.ISOLATED, false)
                : new Metaspace('\u2581', Metaspace.Prepend.NEVER, true);
        Map<String, long[]> counts = new HashMap<>();
        for (String part : splitOnSpecials(text, opt.specials)) {
            int from = 0;
            while (from < part.length()) {
                int to = chunkEnd(part, from, opt.kind);
                List<String> pieces = pre.apply(List.of(part.substring(from, to)), from == 0);
                for (String p : pieces) counts.computeIfAbsent(p, k -> new long[1])[0]++;
                from = to;
            }
        }
        return counts;
    }

    private static List<String> splitOnSpecials(String text, List<String> specials) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        while (true) {
            int best = -1;
            String hit = null;
            for (String s : specials) {
                int i = text.indexOf(s, from);
                if (i >= 0 && (best < 0 || i < best || (i == best && s.length() > hit.length()))) { best = i; hit = s; }
            }
            if (best < 0) { parts.add(text.substring(from)); return parts; }
            parts.add(text.substring(from, best));
            from = best + hit.length();
        }
    }

    /**
     * Pre-tokenizes in chunks of about 1 MB so a large corpus never becomes one huge list of pieces. A
     * chunk ends only where no pre-token can span: after a newline followed by a non-space character
     * (Llama 3's regex), or before a space (SentencePiece words start at "▁").
     */
    private static int chunkEnd(String s, int from, Kind kind) {
        int target = from + (1 << 20);
        if (target >= s.length()) return s.length();
        for (int i = target; i < s.length(); i++) {
            char c = s.charAt(i);
            if (kind == Kind.BYTE_LEVEL) {
                if (s.charAt(i - 1) == '\n' && !Character.isWhitespace(c) && !Character.isSurrogate(c)) return i;
            } else if (c == ' ') {
                return i;
            }
        }
        return s.length();
    }

    // ---- byte-level --------------------------------------------------------------------------------

    private static TrainedTokenizer byteLevel(Map<String, long[]> counts, Options opt, Consumer<String> log) {
        int nSpecial = opt.specials.size();
        int min = minimumVocab(Kind.BYTE_LEVEL, nSpecial, 0);
        if (opt.vocabSize < min)
            throw new IllegalArgumentException("--vocab " + opt.vocabSize + " is too small: a byte-level vocabulary needs " + nSpecial
                    + " special tokens + 256 byte tokens = " + min + " at least");
        List<String> tokens = new ArrayList<>(opt.specials);
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
        String[] keys = counts.keySet().toArray(new String[0]);
        Arrays.sort(keys);
        int[][] words = new int[keys.length][];
        long[] freq = new long[keys.length];
        for (int w = 0; w < keys.length; w++) {
            byte[] bytes = keys[w].getBytes(StandardCharsets.UTF_8);
            int[] s = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) s[i] = nSpecial + (bytes[i] & 0xFF);
            words[w] = s;
            freq[w] = counts.get(keys[w])[0];
        }
        return learn(tokens, words, freq, opt, log, List.of());
    }

    // ---- byte fallback (SentencePiece-style) -------------------------------------------------------

    private static TrainedTokenizer byteFallback(Map<String, long[]> counts, String text, Options opt, Consumer<String> log) {
        // Character frequencies from the words (special tokens already cut out, spaces already "▁").
        TreeMap<Integer, long[]> chars = new TreeMap<>();
        long total = 0;
        for (var e : counts.entrySet()) {
            String w = e.getKey();
            long f = e.getValue()[0];
            for (int i = 0; i < w.length(); ) {
                int cp = w.codePointAt(i);
                chars.computeIfAbsent(cp, k -> new long[1])[0] += f;
                total += f;
                i += Character.charCount(cp);
            }
        }
        List<Map.Entry<Integer, long[]>> byCount = new ArrayList<>(chars.entrySet());
        byCount.sort(Comparator.<Map.Entry<Integer, long[]>>comparingLong(e -> -e.getValue()[0]).thenComparingInt(Map.Entry::getKey));
        java.util.TreeSet<Integer> alphabet = new java.util.TreeSet<>();
        long covered = 0;
        for (var e : byCount) {
            if (total > 0 && (double) covered / total >= CHARACTER_COVERAGE) break;
            alphabet.add(e.getKey());
            covered += e.getValue()[0];
        }
        alphabet.add((int) '\u2581');
        List<String> tokens = new ArrayList<>();
        tokens.add(UNK);
        tokens.addAll(opt.specials);
        int nSpecial = tokens.size();
        int min = minimumVocab(Kind.BYTE_FALLBACK, opt.specials.size(), alphabet.size());
        if (opt.vocabSize < min)
            throw new IllegalArgumentException("--vocab " + opt.vocabSize + " is too small: a byte-fallback vocabulary of this corpus needs "
                    + nSpecial + " special tokens + 256 byte tokens + " + alphabet.size() + " characters = " + min + " at least");
        for (int b = 0; b < 256; b++) tokens.add(String.format("<0x%02X>", b));
        Map<Integer, Integer> charId = new HashMap<>();
        for (int cp : alphabet) {
            charId.put(cp, tokens.size());
            tokens.add(new String(Character.toChars(cp)));
        }
        String[] keys = counts.keySet().toArray(new String[0]);
        Arrays.sort(keys);
        int[][] words = new int[keys.length][];
        long[] freq = new long[keys.length];
        for (int w = 0; w < keys.length; w++) {
            String k = keys[w];
            int[] s = new int[k.codePointCount(0, k.length())];
            for (int i = 0, j = 0; i < k.length(); j++) {
                int cp = k.codePointAt(i);
                s[j] = charId.getOrDefault(cp, PairMerger.BARRIER);
                i += Character.charCount(cp);
            }
            words[w] = s;
            freq[w] = counts.get(k)[0];
        }
        return learn(tokens, words, freq, opt, log, List.of(UNK));
    }

    private static TrainedTokenizer learn(List<String> tokens, int[][] words, long[] freq, Options opt, Consumer<String> log, List<String> extraSpecial) {
        Map<String, Integer> byText = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) byText.putIfAbsent(tokens.get(i), i);
        int base = tokens.size();
        long t0 = System.nanoTime();
        PairMerger.Symbols symbols = new PairMerger.Symbols() {
            @Override
            public int merge(int left, int right) {
                String s = tokens.get(left) + tokens.get(right);
                Integer have = byText.get(s);
                if (have != null) return have;
                tokens.add(s);
                byText.put(s, tokens.size() - 1);
                return tokens.size() - 1;
            }

            @Override
            public boolean wantMore() { return tokens.size() < opt.vocabSize; }
        };
        int goal = opt.vocabSize - base;
        List<PairMerger.Merge> merges = new PairMerger(words, freq).learn(symbols, opt.minCount, n -> {
            if (log != null && n % 500 == 0) log.accept(String.format("merges %d/%d (%.1f s)", n, goal, (System.nanoTime() - t0) / 1e9));
        });
        if (tokens.size() < opt.vocabSize && log != null)
            log.accept("warning: the corpus has no more pairs occurring " + opt.minCount + "+ times; the vocabulary stops at "
                    + tokens.size() + " tokens instead of " + opt.vocabSize);
        List<String[]> mergeText = new ArrayList<>(merges.size());
        for (PairMerger.Merge m : merges) mergeText.add(new String[] {tokens.get(m.left()), tokens.get(m.right())});
        List<String> specials = new ArrayList<>(extraSpecial);
        specials.addAll(opt.specials);
        return new TrainedTokenizer(opt.kind, tokens, mergeText, specials, opt.specials.get(0), opt.specials.get(1), opt.specials.get(2),
                opt.addBos, opt.chatTemplate);
    }
}
