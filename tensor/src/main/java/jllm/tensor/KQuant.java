package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The 12-byte scale/min packing of Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins. Entries
 * 0..3 sit in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); entries 4..7 keep their low 4
 * bits in bytes 8..11 (scale low nibble, min high nibble) and their top 2 bits in the spare top bits
 * of bytes 0..3 (scales) and 4..7 (mins).
 */
final class KQuant {
    private KQuant() {}

    private static final ValueLayout.OfLong LEL = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LEI = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Bytes 0..7 of the 12-byte packing (two bounds-checked reads per block instead of 24 byte reads). */
    static long low8(MemorySegment s, long sc) { return s.get(LEL, sc); }

    /** Bytes 8..11. */
    static int high4(MemorySegment s, long sc) { return s.get(LEI, sc + 8); }

    /** {@link #low8(MemorySegment, long)} from a byte array. */
    static long low8(byte[] b, int sc) {
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[sc + i] & 0xff);
        return v;
    }

    /** {@link #high4(MemorySegment, long)} from a byte array. */
    static int high4(byte[] b, int sc) {
        return (b[sc + 8] & 0xff) | (b[sc + 9] & 0xff) << 8 | (b[sc + 10] & 0xff) << 16 | (b[sc + 11] & 0xff) << 24;
    }

    private static int b(long lo, int hi, int k) { return (int) (k < 8 ? lo >>> (8 * k) : hi >>> (8 * (k - 8))) & 0xff; }

    static int scale(long lo, int hi, int j) {
        return j < 4 ? b(lo, hi, j) & 63 : (b(lo, hi, j + 4) & 15) | (b(lo, hi, j - 4) >>> 6) << 4;
    }

    static int min(long lo, int hi, int j) {
        return j < 4 ? b(lo, hi, j + 4) & 63 : (b(lo, hi, j + 4) >>> 4) | (b(lo, hi, j) >>> 6) << 4;
    }

    /**
     * For the Q4_K/Q5_K block at {@code off} ({@code d}, {@code dmin}, then the packing): {@code out[j] =
     * d * scale(j)} and {@code out[8 + j] = dmin * min(j)}, unpacked once per block for the kernels.
     */
    static void scalesAndMins(MemorySegment s, long off, float[] out) {
        float d = Float.float16ToFloat(s.get(LES, off)), dmin = Float.float16ToFloat(s.get(LES, off + 2));
        long lo = low8(s, off + 4);
        int hi = high4(s, off + 4);
        for (int j = 0; j < 8; j++) {
            out[j] = d * scale(lo, hi, j);
            out[8 + j] = dmin * min(lo, hi, j);
        }
    }

    private static final ValueLayout.OfShort LES = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Packs 6-bit {@code sc[8]} and {@code m[8]} into 12 bytes at {@code dst[off..]}. */
    static void pack(int[] sc, int[] m, byte[] dst, int off) {
        for (int j = 0; j < 4; j++) {
            dst[off + j] = (byte) (sc[j] | (sc[j + 4] >>> 4) << 6);
            dst[off + j + 4] = (byte) (m[j] | (m[j + 4] >>> 4) << 6);
            dst[off + j + 8] = (byte) ((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
        }
    }
}
