package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The "rows as lanes" layout every quantized format is repacked into for its kernels
 * ({@link QuantMatmul}), and the small vector helpers the formats' kernels share.
 *
 * <p>Output rows are grouped in panels of {@link #P} rows, one per 16-bit lane of the preferred
 * vector (32 at 512 bits, 16 at 256, 8 at 128), so every kernel works at every width. Within a panel
 * the codes of one column {@code k} (or of two columns sharing a byte) for all P rows sit next to each
 * other: a kernel step over {@code k} is one load widened to 16-bit lanes, and there is no horizontal
 * reduction anywhere. Scales are stored per row in the same lane order.
 *
 * <p>The lanes are ordered rows 0, P/2, 1, P/2 + 1, ...: read as 32-bit lanes, the low halves are rows
 * [0, P/2) and the high halves rows [P/2, P), so widening 16-bit sums (or fp16 scales) to fp32 is a
 * couple of shifts per half and the two halves come out as rows in order.
 */
final class Panels {
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    /** Rows per panel: one per 16-bit lane. */
    static final int P = S.length();
    /** Half a panel: the rows of one fp32 vector. */
    static final int H = P / 2;
    /** P bytes: one byte per row, widened to {@link #S}. */
    static final VectorSpecies<Byte> BP = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(S.vectorBitSize()));
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize()));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 128- to 512-bit vectors (a wider machine would need another panel shape; such tensors keep the per-row path). */
    static final boolean SUPPORTED = P >= 8 && P <= 32 && F.length() == FloatVector.SPECIES_PREFERRED.length();

    private Panels() { }

    /** Row of panel lane {@code lane}: 0, P/2, 1, P/2 + 1, ... */
    static int laneRow(int lane) { return (lane & 1) == 0 ? lane >> 1 : H + (lane >> 1); }

    /** {@code v} in both 16-bit halves of every 32-bit lane (x codes and centring terms, see {@link Int8Activations#q2}). */
    static ShortVector pair(int v) { return IntVector.broadcast(I, v).reinterpretAsShorts(); }

    /** A 16-bit value in both halves of an int. */
    static int twice(int v) { return v & 0xffff | v << 16; }

    /** P bytes at {@code off} widened to 16-bit lanes without sign extension. */
    static ShortVector bytes(MemorySegment s, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BP, s, off, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
    }

    /** The signed 16-bit values of rows [0, P/2) (even lanes) as fp32. */
    static FloatVector lowRows(ShortVector s) {
        return (FloatVector) s.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .convert(VectorOperators.I2F, 0);
    }

    /** The signed 16-bit values of rows [P/2, P) (odd lanes) as fp32. */
    static FloatVector highRows(ShortVector s) {
        return (FloatVector) s.reinterpretAsInts().lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
    }

    /** Rows [0, P/2) of a 16-bit sum as 32-bit ints (for formats that widen before a block ends). */
    static IntVector lowInts(ShortVector s) {
        return s.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
    }

    /** Rows [P/2, P) of a 16-bit sum as 32-bit ints. */
    static IntVector highInts(ShortVector s) { return s.reinterpretAsInts().lanewise(VectorOperators.ASHR, 16); }

    static FloatVector toFloat(IntVector v) { return (FloatVector) v.convert(VectorOperators.I2F, 0); }

    private static final float REBIAS = 0x1p112f;

    /**
     * The fp16 scales of rows [0, P/2) (low halves of the 32-bit lanes at {@code off}) as fp32: the
     * half moved to the top, shifted arithmetically by 3 so sign, exponent and mantissa land in fp32's
     * fields, the three sign copies cleared, and the exponent rebiased by 2^112. Exact for normals and
     * subnormals; inf/NaN scales (a broken file, which the loader reports) come out finite.
     */
    static FloatVector halvesLow(MemorySegment s, long off) {
        return IntVector.fromMemorySegment(I, s, off, LE).lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                .and(0x8fffffff).reinterpretAsFloats().mul(REBIAS);
    }

    /** The fp16 scales of rows [P/2, P) (high halves). */
    static FloatVector halvesHigh(MemorySegment s, long off) {
        return IntVector.fromMemorySegment(I, s, off, LE).and(0xffff0000).lanewise(VectorOperators.ASHR, 3)
                .and(0x8fffffff).reinterpretAsFloats().mul(REBIAS);
    }

    /**
     * Stores a panel's outputs for one token (rows [0, P/2) in {@code lo}, [P/2, P) in {@code hi}) at
     * {@code y[yo + row0 ..]} plus the bias; rows at or past {@code out} (a padded last panel) are dropped.
     */
    static void store(FloatVector lo, FloatVector hi, float[] y, int yo, int row0, int out, float[] bias) {
        if (row0 + P <= out) {
            if (bias != null) {
                lo = lo.add(FloatVector.fromArray(F, bias, row0));
                hi = hi.add(FloatVector.fromArray(F, bias, row0 + H));
            }
            lo.intoArray(y, yo + row0);
            hi.intoArray(y, yo + row0 + H);
            return;
        }
        float[] tmp = new float[P];
        lo.intoArray(tmp, 0);
        hi.intoArray(tmp, H);
        for (int i = 0; i < P && row0 + i < out; i++) y[yo + row0 + i] = tmp[i] + (bias == null ? 0f : bias[row0 + i]);
    }

    /** The fp32 weights of one column for rows [0, P/2) and [P/2, P) into {@code wk[k P ..]} (an expansion's output). */
    static void put(FloatVector lo, FloatVector hi, float[] wk, int k) {
        lo.intoArray(wk, k * P);
        hi.intoArray(wk, k * P + H);
    }
}
