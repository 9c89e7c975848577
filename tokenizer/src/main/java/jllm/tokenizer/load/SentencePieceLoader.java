package jllm.tokenizer.load;

import jllm.formats.FormatException;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Pipeline;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.decoder.*;
import jllm.tokenizer.model.Bpe;
import jllm.tokenizer.model.Model;
import jllm.tokenizer.model.Unigram;
import jllm.tokenizer.model.Vocab;
import jllm.tokenizer.normalizer.Normalizer;
import jllm.tokenizer.normalizer.NormalizerSequence;
import jllm.tokenizer.normalizer.Prepend;
import jllm.tokenizer.normalizer.Replace;
import jllm.tokenizer.processor.TemplateProcessing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece {@code .model} files (a ModelProto protobuf). The few fields needed are read with a
 * small hand-written protobuf decoder (see SentencePieceModel) rather than a protobuf runtime plus generated classes: the
 * schema is tiny and stable, and this keeps the tokenizer module free of code generation.
 * BPE models merge by piece score; Unigram models run Viterbi. Normalization supports the identity
 * rule set (dummy prefix, whitespace escaping, optional whitespace folding); a precompiled NFKC
 * charsmap is reported as unsupported rather than ignored.
 */
final class SentencePieceLoader {
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4;

    private SentencePieceLoader() {}

    static Tokenizer load(Path path) {
        SentencePieceModel sp = SentencePieceModel.read(path);
        String src = path.toString();
        List<String> pieces = java.util.Arrays.asList(sp.pieces());
        int modelType = sp.modelType(), unkId = sp.unkId(), bosId = sp.bosId(), eosId = sp.eosId();
        boolean byteFallback = sp.byteFallback(), addDummyPrefix = sp.addDummyPrefix(),
                removeExtraWhitespace = sp.removeExtraWhitespace(), escapeWhitespace = sp.escapeWhitespace();
        if (sp.charsmapBytes() > 0 && !sp.normalizerName().equals("identity")) {
            throw new FormatException(src + ": SentencePiece normalization rule '" + sp.normalizerName() + "' (precompiled charsmap) is not supported yet");
        }
        int n = pieces.size();
        String[] toks = pieces.toArray(new String[0]);
        Vocab vocab = Vocab.of(toks);
        boolean[] usable = new boolean[n];
        for (int i = 0; i < n; i++) usable[i] = sp.types()[i] == NORMAL || sp.types()[i] == USER_DEFINED;
        Model model;
        if (modelType == 2) {
            float[] sc = new float[n];
            for (int i = 0; i < n; i++) sc[i] = sp.scores()[i];
            model = new Bpe(vocab, Bpe.mergesFromScores(vocab, sc, usable), unkId >= 0 && unkId < n ? toks[unkId] : null,
                    false, byteFallback, false, null, null);
        } else if (modelType == 1) {
            double[] sc = new double[n];
            for (int i = 0; i < n; i++) sc[i] = sp.scores()[i];
            model = new Unigram(vocab, sc, unkId, byteFallback, true, usable);
        } else {
            throw new FormatException(src + ": SentencePiece model type " + modelType + " (word/char) is not supported");
        }
        List<Normalizer> norm = new ArrayList<>();
        if (removeExtraWhitespace) norm.add(SentencePieceLoader::foldSpaces);
        if (addDummyPrefix) norm.add(new Prepend(" "));
        if (escapeWhitespace) norm.add(new Replace(" ", null, "\u2581"));
        Normalizer normalizer = new NormalizerSequence(norm);
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (sp.types()[i] == USER_DEFINED) added.add(new AddedToken(i, toks[i], false, false, false, false, false));
            // Control and unknown pieces are recognised in text, as transformers' LlamaTokenizer and llama.cpp do.
            else if (sp.types()[i] == CONTROL || sp.types()[i] == UNKNOWN) added.add(AddedToken.special(i, toks[i]));
        }
        return build(src, vocab, model, normalizer, added, bosId, eosId, unkId, n, addDummyPrefix);
    }

    static Tokenizer build(String src, Vocab vocab, Model model, Normalizer normalizer, List<AddedToken> added,
                           int bosId, int eosId, int unkId, int n, boolean stripLeadingSpace) {
        Decoder decoder = new DecoderSequence(List.of(new ReplaceDecoder(new Replace("\u2581", null, " ")),
                new ByteFallbackDecoder(), new Fuse(), new StripDecoder(' ', stripLeadingSpace ? 1 : 0, 0)));
        List<int[]> template = new ArrayList<>();
        boolean hasBos = bosId >= 0 && bosId < n;
        if (hasBos) template.add(new int[] {bosId});
        template.add(TemplateProcessing.SEQUENCE);
        Pipeline p = new Pipeline(new Pipeline.AddedVocabularyHolder(added, null), normalizer, null, model,
                new TemplateProcessing(template.toArray(new int[0][])), decoder, false);
        Map<String, String> specials = new LinkedHashMap<>();
        if (hasBos) specials.put("bos_token", vocab.token(bosId));
        if (eosId >= 0 && eosId < n) specials.put("eos_token", vocab.token(eosId));
        if (unkId >= 0 && unkId < n) specials.put("unk_token", vocab.token(unkId));
        return new Tokenizer(src, p, p, n, hasBos ? bosId : null, eosId >= 0 && eosId < n ? new int[] {eosId} : new int[0],
                Map.of(), specials);
    }

    /** SentencePiece's remove_extra_whitespaces: trim, and fold runs of ASCII spaces into one. */
    static String foldSpaces(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean space = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                if (!space) b.append(' ');
                space = true;
            } else {
                b.append(c);
                space = false;
            }
        }
        int e = b.length();
        while (e > 0 && b.charAt(e - 1) == ' ') e--;
        b.setLength(e);
        return b.toString();
    }
}
