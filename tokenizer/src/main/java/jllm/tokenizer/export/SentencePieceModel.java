package jllm.tokenizer.export;

import jllm.formats.FormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece ModelProto that GGUF needs: pieces with scores and types (field 1),
 * the trainer's model type and unk/bos/eos ids (field 2), and the normalizer's add_dummy_prefix (field 3).
 * A minimal protobuf reader: only varint, 64-bit, length-delimited and 32-bit wire types occur there.
 */
record SentencePieceModel(String[] pieces, float[] scores, int[] types, boolean bpe, int unkId, int bosId, int eosId,
                          boolean addDummyPrefix) {

    static SentencePieceModel read(Path path) {
        byte[] b;
        try {
            b = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return parse(b);
        } catch (RuntimeException e) {
            throw new FormatException(path + ": not a SentencePiece model (" + e.getMessage() + ")", e);
        }
    }

    private static final class Reader {
        final byte[] b;
        int pos;
        final int end;

        Reader(byte[] b, int pos, int end) { this.b = b; this.pos = pos; this.end = end; }

        boolean more() { return pos < end; }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new IllegalStateException("truncated varint");
                int x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) return v;
            }
            throw new IllegalStateException("varint too long");
        }

        Reader sub() {
            long n = varint();
            if (n < 0 || n > end - pos) throw new IllegalStateException("length " + n + " past the end");
            Reader r = new Reader(b, pos, pos + (int) n);
            pos += (int) n;
            return r;
        }

        float f32() {
            if (end - pos < 4) throw new IllegalStateException("truncated float");
            int x = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (b[pos + 3] & 0xff) << 24;
            pos += 4;
            return Float.intBitsToFloat(x);
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> sub();
                case 5 -> pos += 4;
                default -> throw new IllegalStateException("wire type " + wire);
            }
            if (pos > end) throw new IllegalStateException("field past the end");
        }
    }

    static SentencePieceModel parse(byte[] bytes) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int modelType = 1, unk = 0, bos = 1, eos = 2;
        boolean dummyPrefix = true;
        Reader r = new Reader(bytes, 0, bytes.length);
        while (r.more()) {
            long key = r.varint();
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                Reader p = r.sub();
                String piece = "";
                float score = 0;
                int type = 1; // NORMAL is the proto default
                while (p.more()) {
                    long k = p.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 1 && w == 2) { Reader s = p.sub(); piece = new String(bytes, s.pos, s.end - s.pos, StandardCharsets.UTF_8); }
                    else if (f == 2 && w == 5) score = p.f32();
                    else if (f == 3 && w == 0) type = (int) p.varint();
                    else p.skip(w);
                }
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if (field == 2 && wire == 2) {
                Reader t = r.sub();
                while (t.more()) {
                    long k = t.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 3 && w == 0) modelType = (int) t.varint();
                    else if (f == 40 && w == 0) unk = (int) t.varint();
                    else if (f == 41 && w == 0) bos = (int) t.varint();
                    else if (f == 42 && w == 0) eos = (int) t.varint();
                    else t.skip(w);
                }
            } else if (field == 3 && wire == 2) {
                Reader nz = r.sub();
                while (nz.more()) {
                    long k = nz.varint();
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 3 && w == 0) dummyPrefix = nz.varint() != 0;
                    else nz.skip(w);
                }
            } else {
                r.skip(wire);
            }
        }
        if (pieces.isEmpty()) throw new IllegalStateException("no pieces");
        float[] sc = new float[scores.size()];
        int[] ty = new int[types.size()];
        for (int i = 0; i < sc.length; i++) { sc[i] = scores.get(i); ty[i] = types.get(i); }
        // Proto ids are int32: -1 (disabled) arrives as a 64-bit varint and becomes -1 here.
        return new SentencePieceModel(pieces.toArray(new String[0]), sc, ty, modelType == 2, unk, bos, eos, dummyPrefix);
    }
}
