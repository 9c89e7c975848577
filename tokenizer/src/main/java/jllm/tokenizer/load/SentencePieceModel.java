package jllm.tokenizer.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.formats.FormatException;

/**
 * A SentencePiece {@code .model} file (a ModelProto): pieces with scores and types (field 1), the
 * trainer spec's model type, byte fallback and unk/bos/eos ids (field 2), and the normalizer spec
 * (field 3). Read with a small hand-written protobuf decoder rather than a protobuf runtime plus
 * generated classes: these few fields are all jllm needs, and every length is bounds-checked.
 * Used by the tokenizer loader and by the GGUF vocabulary exporter.
 */
public record SentencePieceModel(String[] pieces, float[] scores, int[] types, int modelType, boolean byteFallback,
                                 int unkId, int bosId, int eosId, String normalizerName, int charsmapBytes,
                                 boolean addDummyPrefix, boolean removeExtraWhitespace, boolean escapeWhitespace) {

    private static final int NORMAL = 1;

    /** BPE (model type 2) rather than Unigram (1). */
    public boolean bpe() { return modelType == 2; }

    public static SentencePieceModel read(Path path) {
        jllm.formats.io.InputFile.requireFile(path, null);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage(), e);
        }
        return parse(bytes, path.toString());
    }

    /** Minimal protobuf wire-format reader with bounds checks. */
    static final class Pb {
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


    public static SentencePieceModel parse(byte[] bytes, String src) {
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
        float[] sc = new float[pieces.size()];
        int[] ty = new int[pieces.size()];
        for (int i = 0; i < sc.length; i++) { sc[i] = scores.get(i); ty[i] = types.get(i); }
        return new SentencePieceModel(pieces.toArray(new String[0]), sc, ty, modelType, byteFallback, unkId, bosId, eosId,
                normName, charsmapLen, addDummyPrefix, removeExtraWhitespace, escapeWhitespace);
    }
}
