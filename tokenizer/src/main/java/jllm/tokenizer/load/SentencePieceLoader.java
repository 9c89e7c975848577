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

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece {@code .model} files (a ModelProto protobuf). The few fields needed are read with a
 * small hand-written protobuf decoder rather than a protobuf runtime plus generated classes: the
 * schema is tiny and stable, and this keeps the tokenizer module free of code generation.
 * BPE models merge by piece score; Unigram models run Viterbi. Normalization supports the identity
 * rule set (dummy prefix, whitespace escaping, optional whitespace folding); a precompiled NFKC
 * charsmap is reported as unsupported rather than ignored.
 */
final class SentencePieceLoader {
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4;

    private SentencePieceLoader() {}

    /** Minimal protobuf wire-format reader with bounds checks. */
    private static final class Pb {
        final byte[] b;
        int pos;
        final int end;
        final String src;

        Pb(byte[] b, int pos, int end, String src) { this.b = b; this.pos = pos; this.end = end; this.src = src; }

        boolean more() { return pos < end; }

        long varint() {
            long r = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new FormatException(src + ": truncated protobuf varint");
                int x = b[pos++];
                r |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) return r;
            }
            throw new FormatException(src + ": malformed protobuf varint");
        }

        Pb sub() {
            long len = varint();
            if (len < 0 || len > end - pos) throw new FormatException(src + ": protobuf field length " + len + " runs past the end");
            Pb p = new Pb(b, pos, pos + (int) len, src);
            pos += (int) len;
            return p;
        }

        float fixed32f() {
            if (end - pos < 4) throw new FormatException(src + ": truncated protobuf fixed32");
            int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
            pos += 4;
            return Float.intBitsToFloat(v);
        }

        String string() {
            Pb s = sub();
            return new String(b, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> { if (end - pos < 8) throw new FormatException(src + ": truncated protobuf"); pos += 8; }
                case 2 -> sub();
                case 5 -> { if (end - pos < 4) throw new FormatException(src + ": truncated protobuf"); pos += 4; }
                default -> throw new FormatException(src + ": unsupported protobuf wire type " + wire + " (not a SentencePiece model?)");
            }
        }
    }

    static Tokenizer load(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage());
        }
        String src = path.toString();
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int modelType = 1;
        boolean byteFallback = false, addDummyPrefix = true, removeExtraWhitespace = true, escapeWhitespace = true;
        int unkId = 0, bosId = 1, eosId = 2;
        String normName = "";
        int charsmapLen = 0;
        Pb pb = new Pb(bytes, 0, bytes.length, src);
        while (pb.more()) {
            long key = pb.varint();
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                Pb p = pb.sub();
                String piece = "";
                float score = 0;
                int type = NORMAL;
                while (p.more()) {
                    long k = p.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 1 && w == 2) piece = p.string();
                    else if (f == 2 && w == 5) score = p.fixed32f();
                    else if (f == 3 && w == 0) type = (int) p.varint();
                    else p.skip(w);
                }
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if (field == 2 && wire == 2) {
                Pb t = pb.sub();
                while (t.more()) {
                    long k = t.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 3 && w == 0) modelType = (int) t.varint();
                    else if (f == 35 && w == 0) byteFallback = t.varint() != 0;
                    else if (f == 40 && w == 0) unkId = (int) t.varint();
                    else if (f == 41 && w == 0) bosId = (int) t.varint();
                    else if (f == 42 && w == 0) eosId = (int) t.varint();
                    else t.skip(w);
                }
            } else if (field == 3 && wire == 2) {
                Pb nz = pb.sub();
                while (nz.more()) {
                    long k = nz.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 1 && w == 2) normName = nz.string();
                    else if (f == 2 && w == 2) { Pb cm = nz.sub(); charsmapLen = cm.end - cm.pos; }
                    else if (f == 3 && w == 0) addDummyPrefix = nz.varint() != 0;
                    else if (f == 4 && w == 0) removeExtraWhitespace = nz.varint() != 0;
                    else if (f == 5 && w == 0) escapeWhitespace = nz.varint() != 0;
                    else nz.skip(w);
                }
            } else {
                pb.skip(wire);
            }
        }
        if (pieces.isEmpty()) throw new FormatException(src + ": not a SentencePiece model (no pieces)");
        if (charsmapLen > 0 && !normName.equals("identity")) {
            throw new FormatException(src + ": SentencePiece normalization rule '" + normName + "' (precompiled charsmap) is not supported yet");
        }
        int n = pieces.size();
        String[] toks = pieces.toArray(new String[0]);
        Vocab vocab = Vocab.of(toks);
        boolean[] usable = new boolean[n];
        for (int i = 0; i < n; i++) usable[i] = types.get(i) == NORMAL || types.get(i) == USER_DEFINED;
        Model model;
        if (modelType == 2) {
            float[] sc = new float[n];
            for (int i = 0; i < n; i++) sc[i] = scores.get(i);
            model = new Bpe(vocab, Bpe.mergesFromScores(vocab, sc, usable), unkId >= 0 && unkId < n ? toks[unkId] : null,
                    false, byteFallback, false, null, null);
        } else if (modelType == 1) {
            double[] sc = new double[n];
            for (int i = 0; i < n; i++) sc[i] = scores.get(i);
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
            if (types.get(i) == USER_DEFINED) added.add(new AddedToken(i, toks[i], false, false, false, false, false));
            // Control and unknown pieces are recognised in text, as transformers' LlamaTokenizer and llama.cpp do.
            else if (types.get(i) == CONTROL || types.get(i) == UNKNOWN) added.add(AddedToken.special(i, toks[i]));
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
