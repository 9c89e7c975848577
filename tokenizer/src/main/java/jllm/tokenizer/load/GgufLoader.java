package jllm.tokenizer.load;

import jllm.formats.FormatException;
import jllm.formats.gguf.GgufFile;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Pipeline;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.decoder.*;
import jllm.tokenizer.model.Bpe;
import jllm.tokenizer.model.LlamaCppWordPiece;
import jllm.tokenizer.model.Model;
import jllm.tokenizer.model.Unigram;
import jllm.tokenizer.model.Vocab;
import jllm.tokenizer.normalizer.Normalizer;
import jllm.tokenizer.normalizer.NormalizerSequence;
import jllm.tokenizer.normalizer.Prepend;
import jllm.tokenizer.normalizer.Replace;
import jllm.tokenizer.pretokenizer.ByteLevel;
import jllm.tokenizer.pretokenizer.PreTokenizer;
import jllm.tokenizer.pretokenizer.Sequence;
import jllm.tokenizer.processor.TemplateProcessing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tokenizers from GGUF {@code tokenizer.ggml.*} metadata, following llama.cpp: "llama" (SentencePiece
 * BPE by scores, byte fallback, space prefix), "gpt2" (byte-level BPE with the pre-tokenizer named by
 * {@code tokenizer.ggml.pre}), "bert" (llama.cpp WordPiece) and "t5" (Unigram). Control, user-defined
 * and unknown tokens are matched in the text first, as llama.cpp does with parse_special.
 */
final class GgufLoader {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** Token texts that llama.cpp treats as end of generation when they are control tokens. */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|eom_id|>", "<EOT>", "<|end_of_text|>", "<|return|>", "<|call|>", "<｜end▁of▁sentence｜>");

    private GgufLoader() {}

    static Tokenizer load(GgufFile f) {
        String src = f.source();
        try {
            return build(f);
        } catch (FormatException e) {
            throw e.getMessage().startsWith(src) ? e : new FormatException(src + ": " + e.getMessage(), e);
        }
    }

    private static Tokenizer build(GgufFile f) {
        String kind = f.getString("tokenizer.ggml.model", null);
        if (kind == null) throw new FormatException("no tokenizer.ggml.model (the file has no vocabulary)");
        String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
        if (tokens == null || tokens.length == 0) throw new FormatException("no tokenizer.ggml.tokens");
        int n = tokens.length;
        float[] scores = f.getFloatArray("tokenizer.ggml.scores");
        int[] types = f.getIntArray("tokenizer.ggml.token_type");
        if (scores != null && scores.length != n) throw new FormatException("tokenizer.ggml.scores has " + scores.length + " entries for " + n + " tokens");
        if (types != null && types.length != n) throw new FormatException("tokenizer.ggml.token_type has " + types.length + " entries for " + n + " tokens");
        if (types == null) {
            types = new int[n];
            java.util.Arrays.fill(types, NORMAL);
        }
        Vocab vocab = Vocab.of(tokens);
        String pre = f.getString("tokenizer.ggml.pre", "default");
        String name = f.getString("general.name", "").toLowerCase(java.util.Locale.ROOT);
        boolean phi3 = name.contains("phi-3") || name.contains("phi3");

        Integer bos = id(f, "tokenizer.ggml.bos_token_id", n);
        Integer eos = id(f, "tokenizer.ggml.eos_token_id", n);
        Integer unk = id(f, "tokenizer.ggml.unknown_token_id", n);
        boolean addBos, addEos;

        Model model;
        Normalizer normalizer = null;
        PreTokenizer preTok = null;
        Decoder decoder;
        switch (kind) {
            case "llama" -> {
                if (scores == null) throw new FormatException("SentencePiece vocabulary without tokenizer.ggml.scores");
                if (unk == null) unk = 0;
                model = new Bpe(vocab, Bpe.mergesFromScores(vocab, scores, null), tokens[unk], false, true, false, null, null);
                if (f.getBool("tokenizer.ggml.add_space_prefix", true)) {
                    normalizer = new NormalizerSequence(List.of(new Prepend("\u2581"), new Replace(" ", null, "\u2581")));
                } else {
                    normalizer = new Replace(" ", null, "\u2581");
                }
                decoder = new DecoderSequence(List.of(new ReplaceDecoder(new Replace("\u2581", null, " ")), new ByteFallbackDecoder(),
                        new Fuse(), new StripDecoder(' ', f.getBool("tokenizer.ggml.add_space_prefix", true) ? 1 : 0, 0)));
                addBos = f.getBool("tokenizer.ggml.add_bos_token", true);
                addEos = f.getBool("tokenizer.ggml.add_eos_token", false);
            }
            case "gpt2" -> {
                String[] mergeStrings = f.getStringArray("tokenizer.ggml.merges");
                if (mergeStrings == null) throw new FormatException("gpt2 vocabulary without tokenizer.ggml.merges");
                model = new Bpe(vocab, Bpe.mergesFromLines(vocab, mergeStrings), null, false, false,
                        LlamaCppPreTypes.IGNORE_MERGES.contains(pre), null, null);
                preTok = new Sequence(List.of(LlamaCppPreTypes.splitter(pre), new ByteLevel(false, false)));
                decoder = new ByteLevelDecoder();
                addBos = f.getBool("tokenizer.ggml.add_bos_token", LlamaCppPreTypes.ADD_BOS.contains(pre));
                addEos = f.getBool("tokenizer.ggml.add_eos_token", false);
            }
            case "bert" -> {
                if (unk == null) unk = 100;
                model = new LlamaCppWordPiece(vocab, unk);
                decoder = new DecoderSequence(List.of(new ReplaceDecoder(new Replace("\u2581", null, " ")), new Fuse(),
                        new StripDecoder(' ', 1, 0)));
                Integer cls = id(f, "tokenizer.ggml.cls_token_id", n);
                Integer sep = id(f, "tokenizer.ggml.seperator_token_id", n);
                if (bos == null) bos = cls != null ? cls : 101;
                if (eos == null) eos = sep != null ? sep : 102;
                addBos = f.getBool("tokenizer.ggml.add_bos_token", true);
                addEos = f.getBool("tokenizer.ggml.add_eos_token", true);
            }
            case "t5" -> {
                if (scores == null) throw new FormatException("Unigram vocabulary without tokenizer.ggml.scores");
                double[] sc = new double[n];
                boolean[] usable = new boolean[n];
                for (int i = 0; i < n; i++) { sc[i] = scores[i]; usable[i] = types[i] == NORMAL || types[i] == USER_DEFINED; }
                model = new Unigram(vocab, sc, unk == null ? 2 : unk, false, true, usable);
                normalizer = new NormalizerSequence(List.of(new Prepend("\u2581"), new Replace(" ", null, "\u2581")));
                decoder = new DecoderSequence(List.of(new ReplaceDecoder(new Replace("\u2581", null, " ")), new Fuse(), new StripDecoder(' ', 1, 0)));
                addBos = f.getBool("tokenizer.ggml.add_bos_token", false);
                addEos = f.getBool("tokenizer.ggml.add_eos_token", true);
            }
            default -> throw new FormatException("unsupported tokenizer.ggml.model '" + kind + "'");
        }

        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int t = types[i];
            if (t != CONTROL && t != USER_DEFINED && t != UNKNOWN) continue;
            if (tokens[i].isEmpty()) continue;
            // llama.cpp strips whitespace after special tokens of Phi-3 models (and after </s>), not after <unk>/<s>/<|endoftext|>.
            boolean rstrip = phi3 && !Set.of("<unk>", "<s>", "<|endoftext|>").contains(tokens[i]);
            added.add(new AddedToken(i, tokens[i], t != USER_DEFINED, false, rstrip, false, false));
        }
        List<int[]> template = new ArrayList<>();
        if (addBos && bos != null) template.add(new int[] {bos});
        template.add(TemplateProcessing.SEQUENCE);
        if (addEos && eos != null) template.add(new int[] {eos});
        Pipeline p = new Pipeline(new Pipeline.AddedVocabularyHolder(added, normalizer), normalizer, preTok, model,
                new TemplateProcessing(template.toArray(new int[0][])), decoder, true);

        Set<Integer> eog = new LinkedHashSet<>();
        if (eos != null) eog.add(eos);
        for (String k : List.of("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")) {
            Integer x = id(f, k, n);
            if (x != null) eog.add(x);
        }
        for (int i = 0; i < n; i++) if (types[i] == CONTROL && EOG_TEXTS.contains(tokens[i])) eog.add(i);

        Map<String, String> templates = new LinkedHashMap<>();
        String ct = f.getString("tokenizer.chat_template", null);
        if (ct != null) templates.put("default", ct);
        for (String k : f.keys()) {
            if (k.startsWith("tokenizer.chat_template.")) templates.put(k.substring("tokenizer.chat_template.".length()), f.getString(k, ""));
        }
        Map<String, String> specials = new LinkedHashMap<>();
        if (bos != null) specials.put("bos_token", tokens[bos]);
        if (eos != null) specials.put("eos_token", tokens[eos]);
        if (unk != null) specials.put("unk_token", tokens[unk]);
        Integer pad = id(f, "tokenizer.ggml.padding_token_id", n);
        if (pad != null) specials.put("pad_token", tokens[pad]);
        return new Tokenizer(f.source(), p, p, n, bos,
                eog.stream().mapToInt(Integer::intValue).toArray(), templates, specials);
    }

    private static Integer id(GgufFile f, String key, int n) {
        if (!f.has(key)) return null;
        long v = f.getLong(key, -1);
        if (v < 0 || v >= n) {
            // llama.cpp ignores out-of-range ids (e.g. -1 meaning "none"); so do we.
            return null;
        }
        return (int) v;
    }
}
