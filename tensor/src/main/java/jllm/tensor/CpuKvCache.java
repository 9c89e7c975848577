package jllm.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU KV cache: per layer and kv head, keys transposed in tiles of {@link #TILE} positions
 * ({@code [tile][d][16]}: the 16 positions of a head dimension side by side, so a query's scores
 * come {@code L} positions per FMA with no lane reductions, {@link CpuKvAttention}) and values
 * position-major ({@code [position][d]}: the output accumulates {@code L} dimensions per FMA).
 * Stored as fp32, f16 or Q8_0 ({@link KvType}); the attention kernels read fp32, so the f16 and
 * Q8_0 caches decode the part they need into a small per-thread buffer first (C2 compiles the f16
 * loop to {@code vcvtph2ps}). The tile layout does not depend on the capacity: growing copies a
 * prefix. Grown by doubling; refused up front (with the memory it would take) when it cannot fit.
 */
final class CpuKvCache implements KvCache {
    /** Positions per key tile; a multiple of every vector length the kernels run at (4, 8, 16 floats). */
    static final int TILE = 16;
    private static final int QB = KvType.Q8_BLOCK;

    final int layers, kvHeads, hd, groups;
    final KvType type;
    private int capacity;
    // [layer * kvHeads + head]; only the arrays of this cache's type exist
    private final float[][] kf, vf, ks, vs;
    private final short[][] kh, vh;
    private final byte[][] kb, vb;
    /** Partial results of a decode step, reused ({@link CpuKvAttention}); calls on one cache are sequential. */
    float[] partials = new float[0];

    CpuKvCache(int layers, int kvHeads, int headDim, KvType type) {
        if (layers < 1 || kvHeads < 1 || headDim < 1) throw new IllegalArgumentException("KV cache of " + layers + " layers, " + kvHeads + " heads of " + headDim);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.hd = headDim;
        this.type = type;
        this.groups = (headDim + QB - 1) / QB;
        int n = layers * kvHeads;
        kf = type == KvType.F32 ? new float[n][] : null;
        vf = type == KvType.F32 ? new float[n][] : null;
        kh = type == KvType.F16 ? new short[n][] : null;
        vh = type == KvType.F16 ? new short[n][] : null;
        kb = type == KvType.Q8_0 ? new byte[n][] : null;
        vb = type == KvType.Q8_0 ? new byte[n][] : null;
        ks = type == KvType.Q8_0 ? new float[n][] : null;
        vs = type == KvType.Q8_0 ? new float[n][] : null;
    }

    @Override public KvType type() { return type; }

    @Override public int capacity() { return capacity; }

    /**
     * transformers itself runs past {@code max_position_embeddings} (RoPE scaling exists for that),
     * so the only limit is memory: a cache that cannot fit in the heap is refused up front instead
     * of failing halfway.
     */
    @Override
    public void ensure(int needed) {
        long perToken = layers * type.bytesPerPosition(kvHeads, hd);
        long budget = Runtime.getRuntime().maxMemory() / 2;
        if (needed < 0 || needed * perToken > budget || (long) needed * hd > Integer.MAX_VALUE - 64)
            throw new IllegalArgumentException("a " + type + " KV cache for " + needed + " tokens needs " + (needed * perToken >> 20)
                    + " MiB, more than half the Java heap (" + (budget >> 20) + " MiB available); use a shorter context, --kv-type q8_0 or a larger -Xmx");
        if (needed <= capacity) return;
        long want = Math.max(needed, Math.max(TILE, 2L * capacity));
        if (want * perToken > budget) want = needed;
        int cap = (int) Math.min((Integer.MAX_VALUE - 64) / hd / TILE * TILE, (want + TILE - 1) / TILE * TILE);
        for (int i = 0; i < layers * kvHeads; i++) {
            int n = cap * hd;
            switch (type) {
                case F32 -> {
                    kf[i] = java.util.Arrays.copyOf(kf[i] == null ? new float[0] : kf[i], n);
                    vf[i] = java.util.Arrays.copyOf(vf[i] == null ? new float[0] : vf[i], n);
                }
                case F16 -> {
                    kh[i] = java.util.Arrays.copyOf(kh[i] == null ? new short[0] : kh[i], n);
                    vh[i] = java.util.Arrays.copyOf(vh[i] == null ? new short[0] : vh[i], n);
                }
                case Q8_0 -> {
                    kb[i] = java.util.Arrays.copyOf(kb[i] == null ? new byte[0] : kb[i], n);
                    vb[i] = java.util.Arrays.copyOf(vb[i] == null ? new byte[0] : vb[i], n);
                    ks[i] = java.util.Arrays.copyOf(ks[i] == null ? new float[0] : ks[i], cap * groups);
                    vs[i] = java.util.Arrays.copyOf(vs[i] == null ? new float[0] : vs[i], cap * groups);
                }
            }
        }
        capacity = cap;
    }

    /** Offset of position p's column (d = 0) in its head's key tiles; dimension d adds {@code d * TILE}. */
    private int keyAt(int p) { return p / TILE * (hd * TILE) + p % TILE; }

    /** Stores {@code rows} positions from {@code start} of layer {@code l}: {@code k, v [rows, kvHeads * hd]}. */
    void store(int l, float[] k, float[] v, int start, int rows) {
        if (start < 0 || start + rows > capacity)
            throw new IllegalArgumentException("KV positions " + start + ".." + (start + rows) + " outside the cache's " + capacity);
        int kvDim = kvHeads * hd;
        for (int h = 0; h < kvHeads; h++) {
            int i = l * kvHeads + h;
            for (int t = 0; t < rows; t++) {
                int p = start + t, src = t * kvDim + h * hd, kp = keyAt(p);
                switch (type) {
                    case F32 -> {
                        for (int d = 0; d < hd; d++) kf[i][kp + d * TILE] = k[src + d];
                        System.arraycopy(v, src, vf[i], p * hd, hd);
                    }
                    case F16 -> {
                        for (int d = 0; d < hd; d++) {
                            kh[i][kp + d * TILE] = half(k[src + d]);
                            vh[i][p * hd + d] = half(v[src + d]);
                        }
                    }
                    case Q8_0 -> {
                        for (int g = 0; g < groups; g++) {
                            int d0 = g * QB, d1 = Math.min(hd, d0 + QB);
                            float sk = q8Scale(k, src + d0, d1 - d0), sv = q8Scale(v, src + d0, d1 - d0);
                            float ik = sk == 0 ? 0 : 1f / sk, iv = sv == 0 ? 0 : 1f / sv;
                            ks[i][(p / TILE * groups + g) * TILE + p % TILE] = sk;
                            vs[i][p * groups + g] = sv;
                            for (int d = d0; d < d1; d++) {
                                kb[i][kp + d * TILE] = (byte) Quantizer.roundf(k[src + d] * ik);
                                vb[i][p * hd + d] = (byte) Quantizer.roundf(v[src + d] * iv);
                            }
                        }
                    }
                }
            }
        }
    }

    /** fp16 with overflow saturated to the largest finite half (an infinity would poison every score of the head). */
    private static short half(float x) { return Float.floatToFloat16(Math.max(-65504f, Math.min(65504f, x))); }

    /** q8_0's scale: {@code max|x| / 127}. */
    private static float q8Scale(float[] x, int o, int n) {
        float amax = 0;
        for (int i = 0; i < n; i++) amax = Math.max(amax, Math.abs(x[o + i]));
        return amax / 127f;
    }

    // ---- reading as fp32 ---------------------------------------------------------------------

    /**
     * Key tiles {@code [t0, t1)} of head {@code i = layer * kvHeads + head} as fp32 {@code [tile][d][16]}:
     * the cache's own array for F32 (tile t0 at {@code t0 * hd * TILE}), otherwise decoded into
     * {@code dst} (tile t0 at 0).
     */
    float[] keyTiles(int i, int t0, int t1, float[] dst) {
        int from = t0 * hd * TILE, n = (t1 - t0) * hd * TILE;
        switch (type) {
            case F32 -> { return kf[i]; }
            case F16 -> halfToFloat(kh[i], from, dst, n);
            case Q8_0 -> {
                byte[] b = kb[i];
                float[] s = ks[i];
                for (int t = t0; t < t1; t++)
                    for (int g = 0; g < groups; g++)
                        for (int d = g * QB, d1 = Math.min(hd, d + QB); d < d1; d++)
                            q8Row(b, (t * hd + d) * TILE, s, (t * groups + g) * TILE, dst, ((t - t0) * hd + d) * TILE);
            }
        }
        return dst;
    }

    /**
     * Values of positions {@code [j0, j1)} of head i as fp32 rows {@code [position][d]}: the cache's
     * own array for F32 (position j0 at {@code j0 * hd}), otherwise decoded into {@code dst} (at 0).
     */
    float[] valueRows(int i, int j0, int j1, float[] dst) {
        switch (type) {
            case F32 -> { return vf[i]; }
            case F16 -> halfToFloat(vh[i], j0 * hd, dst, (j1 - j0) * hd);
            case Q8_0 -> {
                byte[] b = vb[i];
                float[] s = vs[i];
                for (int j = j0; j < j1; j++)
                    for (int g = 0; g < groups; g++) {
                        int d0 = g * QB, n = Math.min(hd, d0 + QB) - d0;
                        scaleBytes(b, j * hd + d0, s[j * groups + g], dst, (j - j0) * hd + d0, n);
                    }
            }
        }
        return dst;
    }

    @Override
    public float[][] read(int layer, int positions) {
        if (layer < 0 || layer >= layers || positions < 0 || positions > capacity)
            throw new IllegalArgumentException("layer " + layer + ", " + positions + " positions of a cache of " + layers + " layers, " + capacity + " positions");
        int kvDim = kvHeads * hd, tiles = (positions + TILE - 1) / TILE;
        float[] k = new float[positions * kvDim], v = new float[positions * kvDim];
        float[] kt = new float[tiles * hd * TILE], vr = new float[positions * hd];
        for (int h = 0; h < kvHeads; h++) {
            int i = layer * kvHeads + h;
            float[] keys = keyTiles(i, 0, tiles, kt), vals = valueRows(i, 0, positions, vr);
            for (int p = 0; p < positions; p++)
                for (int d = 0; d < hd; d++) {
                    k[p * kvDim + h * hd + d] = keys[keyAt(p) + d * TILE];
                    v[p * kvDim + h * hd + d] = vals[p * hd + d];
                }
        }
        return new float[][] {k, v};
    }

    /** A plain loop: C2 compiles it to {@code vcvtph2ps} (22 G values/s on one core here), which the Vector API cannot name. */
    private static void halfToFloat(short[] src, int from, float[] dst, int n) {
        for (int i = 0; i < n; i++) dst[i] = Float.float16ToFloat(src[from + i]);
    }

    private static final VectorSpecies<Float> F = CpuKvAttention.F;
    private static final int L = F.length();
    /** Bytes per load: L of them, at least 8 (the smallest byte vector); a 4-lane float vector takes two parts of one load. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final int PARTS = B.length() / L;

    /** One tile row of 16 Q8_0 keys: {@code dst[j] = q[j] * scale[j]} (each position has its own block scale). */
    private static void q8Row(byte[] q, int qo, float[] s, int so, float[] dst, int o) {
        for (int j = 0; j < TILE; j += B.length()) {
            ByteVector b = ByteVector.fromArray(B, q, qo + j);
            for (int part = 0; part < PARTS; part++) {
                int jj = j + part * L;
                ((FloatVector) b.convertShape(VectorOperators.B2F, F, part)).mul(FloatVector.fromArray(F, s, so + jj)).intoArray(dst, o + jj);
            }
        }
    }

    /** {@code dst[i] = q[i] * s} for one block of values. */
    private static void scaleBytes(byte[] q, int qo, float s, float[] dst, int o, int n) {
        int i = 0;
        for (; i <= n - B.length(); i += B.length()) {
            ByteVector b = ByteVector.fromArray(B, q, qo + i);
            for (int part = 0; part < PARTS; part++)
                ((FloatVector) b.convertShape(VectorOperators.B2F, F, part)).mul(s).intoArray(dst, o + i + part * L);
        }
        for (; i < n; i++) dst[o + i] = q[qo + i] * s;
    }
}
