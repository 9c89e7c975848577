package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of queries against a {@link CpuKvCache} (inference: decode and prefill).
 *
 * <p>Keys are split into chunks of {@link #CHUNK} positions at fixed boundaries. For one kv head
 * and one chunk, the rows are every (query token, query head of that kv head) pair: GQA's query
 * heads share each key load. Scores are an outer product over the head dimension: per d, two
 * vectors of key positions from the transposed tiles times a broadcast of four rows' q[d], eight
 * FMAs, no horizontal reduction per position. The softmax of the chunk is kept unnormalised
 * (its max m, sum l and {@code sum_j e_j v_j}); the output is an outer product too: per position,
 * two vectors of v times four broadcast probabilities. Chunks are then merged in position order
 * (rescaling by {@code exp(m_old - m_new)}).
 *
 * <p>Decoding spreads (kv head, chunk) pairs over the threads and merges afterwards; prefill spreads
 * (kv head, block of query tokens) and merges as it goes. Both merge the same partials in the same
 * order, and a row's arithmetic does not depend on which rows share its kernel call, so a position
 * gets the same bits whether it is decoded alone or in a prefill, whatever the thread count.
 */
final class CpuKvAttention {
    private CpuKvAttention() { }

    /** The float species of the kernels: the preferred one, at most 512 bits (a key tile row is 16 positions). */
    static final VectorSpecies<Float> F = CpuBackend.F.length() <= CpuKvCache.TILE ? CpuBackend.F : FloatVector.SPECIES_512;
    private static final int L = F.length();
    private static final int TILE = CpuKvCache.TILE;
    /** Key positions per chunk (a multiple of TILE): the unit of decode parallelism and of the merge. */
    static final int CHUNK = 128;
    /** Up to this many query tokens run as a decode (threads over chunks); more as a prefill (threads over query blocks). */
    private static final int DECODE_TOKENS = 16;
    /** Target rows (tokens x query heads of a kv head) of one prefill block. */
    private static final int BLOCK_ROWS = 64;

    static void attention(Parallel par, float[] q, int tokens, int[] pos, CpuKvCache c, int layer, int heads, int hd,
                          float scale, float softcap, AttentionMask mask, float[] out) {
        int kvHeads = c.kvHeads;
        if (hd != c.hd || heads % kvHeads != 0)
            throw new IllegalArgumentException("attention of " + heads + " heads of " + hd + " on a cache of " + kvHeads + " heads of " + c.hd);
        if (layer < 0 || layer >= c.layers) throw new IllegalArgumentException("layer " + layer + " outside the cache's " + c.layers);
        int minFirst = Integer.MAX_VALUE, maxPos = -1;
        for (int t = 0; t < tokens; t++) {
            if (pos[t] < 0 || pos[t] >= c.capacity()) throw new IllegalArgumentException("position " + pos[t] + " outside the cache's " + c.capacity());
            minFirst = Math.min(minFirst, mask.firstKey(pos[t]));
            maxPos = Math.max(maxPos, pos[t]);
        }
        if (tokens == 0) return;
        int group = heads / kvHeads, w = hd + 2;
        if (tokens <= DECODE_TOKENS) {
            // threads over (kv head, chunk); partials kept per (kv head, chunk, row), merged in chunk order
            int k0 = minFirst / CHUNK, nk = maxPos / CHUNK - k0 + 1, rows = tokens * group;
            int need = kvHeads * nk * rows * w;
            if (c.partials.length < need) c.partials = new float[need];
            float[] part = c.partials;
            par.forRange(kvHeads * nk, 1, (a, b) -> {
                Scratch s = Scratch.get(rows, hd);
                for (int item = a; item < b; item++) {
                    int g = item / nk, k = k0 + item % nk;
                    s.rows(q, 0, tokens, pos, g, group, heads, hd, mask);
                    chunk(c, layer * kvHeads + g, q, k, scale, softcap, s, part, (g * nk + item % nk) * rows * w);
                }
            });
            par.forRange(kvHeads * rows, 8, (a, b) -> {
                float[] state = new float[w];
                for (int gr = a; gr < b; gr++) {
                    int g = gr / rows, r = gr % rows;
                    state[0] = Float.NEGATIVE_INFINITY;
                    state[1] = 0f;
                    for (int k = 0; k < nk; k++) merge(state, 0, part, ((g * nk + k) * rows + r) * w, hd);
                    int t = r / group, h = g * group + r % group;
                    normalise(state, 0, out, (t * heads + h) * hd, hd);
                }
            });
            return;
        }
        // threads over (kv head, block of query tokens); each merges its chunks as it goes
        int tq = Math.max(1, BLOCK_ROWS / group), blocks = (tokens + tq - 1) / tq;
        par.forRange(kvHeads * blocks, 1, (a, b) -> {
            for (int item = a; item < b; item++) {
                int g = item / blocks, t0 = item % blocks * tq, nt = Math.min(tq, tokens - t0), rows = nt * group;
                Scratch s = Scratch.get(rows, hd);
                s.rows(q, t0, nt, pos, g, group, heads, hd, mask);
                int first = Integer.MAX_VALUE, last = -1;
                for (int r = 0; r < rows; r++) {
                    first = Math.min(first, s.first[r]);
                    last = Math.max(last, s.pos[r]);
                }
                for (int r = 0; r < rows; r++) {
                    s.state[r * w] = Float.NEGATIVE_INFINITY;
                    s.state[r * w + 1] = 0f;
                }
                for (int k = first / CHUNK; k <= last / CHUNK; k++) {
                    chunk(c, layer * kvHeads + g, q, k, scale, softcap, s, s.part, 0);
                    for (int r = 0; r < rows; r++) merge(s.state, r * w, s.part, r * w, hd);
                }
                for (int r = 0; r < rows; r++) {
                    int t = t0 + r / group, h = g * group + r % group;
                    normalise(s.state, r * w, out, (t * heads + h) * hd, hd);
                }
            }
        });
    }

    /** Per-thread buffers: the rows of one call, scores, decoded keys/values, partials. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();
        int rows;
        int[] qo = new int[0], pos = new int[0], first = new int[0];
        float[] scores = new float[0], keys = new float[0], values = new float[0], part = new float[0], state = new float[0];

        static Scratch get(int rows, int hd) {
            Scratch s = LOCAL.get();
            if (s == null) LOCAL.set(s = new Scratch());
            if (s.qo.length < rows) {
                s.qo = new int[rows];
                s.pos = new int[rows];
                s.first = new int[rows];
                s.scores = new float[rows * CHUNK];
            }
            if (s.part.length < rows * (hd + 2)) {
                s.part = new float[rows * (hd + 2)];
                s.state = new float[rows * (hd + 2)];
            }
            if (s.keys.length < CHUNK * hd) {
                s.keys = new float[CHUNK * hd];
                s.values = new float[CHUNK * hd];
            }
            return s;
        }

        /** Rows of tokens {@code [t0, t0 + nt)} x the query heads of kv head g, token-major. */
        void rows(float[] q, int t0, int nt, int[] positions, int g, int group, int heads, int hd, AttentionMask mask) {
            rows = nt * group;
            for (int r = 0; r < rows; r++) {
                int t = t0 + r / group;
                qo[r] = (t * heads + g * group + r % group) * hd;
                pos[r] = positions[t];
                first[r] = mask.firstKey(positions[t]);
            }
        }
    }

    /**
     * One chunk k of head i for the scratch's rows: writes each row's partial {@code (m, l, acc[hd])}
     * at {@code part[o + r * (hd + 2)]}, m = -inf for a row that sees no key of the chunk.
     */
    private static void chunk(CpuKvCache c, int i, float[] q, int k, float scale, float softcap, Scratch s, float[] part, int o) {
        int hd = c.hd, rows = s.rows, w = hd + 2, c0 = k * CHUNK;
        int lo = Integer.MAX_VALUE, hi = -1;
        for (int r = 0; r < rows; r++) {
            int a = Math.max(c0, s.first[r]), b = Math.min(c0 + CHUNK - 1, s.pos[r]);
            if (a <= b) {
                lo = Math.min(lo, a);
                hi = Math.max(hi, b);
            }
        }
        if (hi < 0) {
            for (int r = 0; r < rows; r++) part[o + r * w] = Float.NEGATIVE_INFINITY;
            return;
        }
        int j0 = lo / L * L, nv = (hi - j0) / L + 1, t0 = j0 / TILE, t1 = hi / TILE + 1;
        float[] kt = c.keyTiles(i, t0, t1, s.keys);
        int kBase = kt == s.keys ? -t0 * hd * TILE : 0;
        scores(kt, kBase, hd, q, s, j0, nv, c0);
        for (int r = 0; r < rows; r++) softmaxPart(s.scores, r * CHUNK - c0, j0, nv, Math.max(c0, s.first[r]), Math.min(c0 + CHUNK - 1, s.pos[r]),
                scale, softcap, part, o + r * w);
        float[] v = c.valueRows(i, j0, hi + 1, s.values);
        int vBase = v == s.values ? -j0 * hd : 0;
        values(v, vBase, hd, s.scores, j0, hi, c0, rows, part, o);
    }

    /**
     * {@code scores[r * CHUNK + j - c0] = q_r . k_j} for the nv position vectors from j0: per d,
     * two key vectors, four broadcast q values, eight FMAs. Rows and vectors past the end repeat
     * the last one (recomputing it, same bits, same destination).
     */
    private static void scores(float[] kt, int kBase, int hd, float[] q, Scratch s, int j0, int nv, int c0) {
        int rows = s.rows;
        int[] qo = s.qo;
        float[] out = s.scores;
        for (int vp = 0; vp < nv; vp += 2) {
            int ja = j0 + vp * L, jb = j0 + Math.min(vp + 1, nv - 1) * L;
            int ka = kBase + ja / TILE * hd * TILE + ja % TILE, kb = kBase + jb / TILE * hd * TILE + jb % TILE;
            for (int r = 0; r < rows; r += 4) {
                int r1 = Math.min(r + 1, rows - 1), r2 = Math.min(r + 2, rows - 1), r3 = Math.min(r + 3, rows - 1);
                FloatVector z = FloatVector.zero(F), a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                int q0 = qo[r], q1 = qo[r1], q2 = qo[r2], q3 = qo[r3];
                for (int d = 0; d < hd; d++) {
                    FloatVector ka_ = FloatVector.fromArray(F, kt, ka + d * TILE), kb_ = FloatVector.fromArray(F, kt, kb + d * TILE);
                    FloatVector x = FloatVector.broadcast(F, q[q0 + d]);
                    a0 = ka_.fma(x, a0);
                    b0 = kb_.fma(x, b0);
                    x = FloatVector.broadcast(F, q[q1 + d]);
                    a1 = ka_.fma(x, a1);
                    b1 = kb_.fma(x, b1);
                    x = FloatVector.broadcast(F, q[q2 + d]);
                    a2 = ka_.fma(x, a2);
                    b2 = kb_.fma(x, b2);
                    x = FloatVector.broadcast(F, q[q3 + d]);
                    a3 = ka_.fma(x, a3);
                    b3 = kb_.fma(x, b3);
                }
                int oa = ja - c0, ob = jb - c0;
                a0.intoArray(out, r * CHUNK + oa);
                b0.intoArray(out, r * CHUNK + ob);
                a1.intoArray(out, r1 * CHUNK + oa);
                b1.intoArray(out, r1 * CHUNK + ob);
                a2.intoArray(out, r2 * CHUNK + oa);
                b2.intoArray(out, r2 * CHUNK + ob);
                a3.intoArray(out, r3 * CHUNK + oa);
                b3.intoArray(out, r3 * CHUNK + ob);
            }
        }
    }

    /**
     * Row r's scores (at {@code s[so + j]}) become {@code e_j = exp(score_j - m)} for the visible keys
     * {@code [a, b]} and 0 elsewhere; its m and {@code l = sum e_j} go to {@code part[po]}, {@code part[po + 1]}.
     */
    private static void softmaxPart(float[] s, int so, int j0, int nv, int a, int b, float scale, float softcap, float[] part, int po) {
        if (a > b) {
            part[po] = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < nv; v++) FloatVector.zero(F).intoArray(s, so + j0 + v * L);
            return;
        }
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int v = 0; v < nv; v++) {
            int j = j0 + v * L;
            FloatVector x = FloatVector.fromArray(F, s, so + j).mul(scale);
            if (softcap > 0 || j < a || j + L - 1 > b) {
                // lanes outside [a, b] (only in the first and last vectors) become -inf, whose exp is 0
                x.intoArray(s, so + j);
                for (int jj = j; jj < j + L; jj++)
                    s[so + jj] = jj < a || jj > b ? Float.NEGATIVE_INFINITY : softcap > 0 ? (float) (softcap * Math.tanh(s[so + jj] / softcap)) : s[so + jj];
                x = FloatVector.fromArray(F, s, so + j);
            } else {
                x.intoArray(s, so + j);
            }
            mx = mx.max(x);
        }
        float m = mx.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(F);
        for (int v = 0; v < nv; v++) {
            int j = j0 + v * L;
            FloatVector e = VecMath.exp(FloatVector.fromArray(F, s, so + j).sub(m));
            e.intoArray(s, so + j);
            sum = sum.add(e);
        }
        part[po] = m;
        part[po + 1] = VecMath.sum(sum);
    }

    /**
     * {@code acc_r[d] = sum_j e_rj v_j[d]} over positions {@code [j0, hi]} (e = 0 where a row sees
     * nothing): per position, two vectors of v and four broadcast e, eight FMAs; d past the last
     * whole vector is done in scalar, in the same order.
     */
    private static void values(float[] v, int vBase, int hd, float[] e, int j0, int hi, int c0, int rows, float[] part, int o) {
        int w = hd + 2, nd = hd / L;
        for (int r = 0; r < rows; r += 4) {
            int r1 = Math.min(r + 1, rows - 1), r2 = Math.min(r + 2, rows - 1), r3 = Math.min(r + 3, rows - 1);
            int e0 = r * CHUNK - c0, e1 = r1 * CHUNK - c0, e2 = r2 * CHUNK - c0, e3 = r3 * CHUNK - c0;
            for (int dp = 0; dp < nd; dp += 2) {
                int da = dp * L, db = Math.min(dp + 1, nd - 1) * L;
                FloatVector z = FloatVector.zero(F), a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                for (int j = j0; j <= hi; j++) {
                    int vo = vBase + j * hd;
                    FloatVector va = FloatVector.fromArray(F, v, vo + da), vb = FloatVector.fromArray(F, v, vo + db);
                    FloatVector x = FloatVector.broadcast(F, e[e0 + j]);
                    a0 = va.fma(x, a0);
                    b0 = vb.fma(x, b0);
                    x = FloatVector.broadcast(F, e[e1 + j]);
                    a1 = va.fma(x, a1);
                    b1 = vb.fma(x, b1);
                    x = FloatVector.broadcast(F, e[e2 + j]);
                    a2 = va.fma(x, a2);
                    b2 = vb.fma(x, b2);
                    x = FloatVector.broadcast(F, e[e3 + j]);
                    a3 = va.fma(x, a3);
                    b3 = vb.fma(x, b3);
                }
                int p0 = o + r * w + 2, p1 = o + r1 * w + 2, p2 = o + r2 * w + 2, p3 = o + r3 * w + 2;
                a0.intoArray(part, p0 + da);
                b0.intoArray(part, p0 + db);
                a1.intoArray(part, p1 + da);
                b1.intoArray(part, p1 + db);
                a2.intoArray(part, p2 + da);
                b2.intoArray(part, p2 + db);
                a3.intoArray(part, p3 + da);
                b3.intoArray(part, p3 + db);
            }
            for (int d = nd * L; d < hd; d++)
                for (int rr = r; rr <= r3; rr++) {
                    float acc = 0f;
                    for (int j = j0; j <= hi; j++) acc = Math.fma(e[rr * CHUNK - c0 + j], v[vBase + j * hd + d], acc);
                    part[o + rr * w + 2 + d] = acc;
                }
        }
    }

    /** Merges a chunk's partial {@code (m, l, acc)} at {@code p[po]} into the running one at {@code st[so]} (absent when m = -inf). */
    static void merge(float[] st, int so, float[] p, int po, int hd) {
        float mc = p[po];
        if (mc == Float.NEGATIVE_INFINITY) return;
        float m = st[so];
        if (m == Float.NEGATIVE_INFINITY) {
            System.arraycopy(p, po, st, so, hd + 2);
            return;
        }
        float mn = Math.max(m, mc), a = VecMath.exp(m - mn), b = VecMath.exp(mc - mn);
        st[so] = mn;
        st[so + 1] = st[so + 1] * a + p[po + 1] * b;
        int d = 0;
        for (; d <= hd - L; d += L)
            FloatVector.fromArray(F, st, so + 2 + d).mul(a).add(FloatVector.fromArray(F, p, po + 2 + d).mul(b)).intoArray(st, so + 2 + d);
        for (; d < hd; d++) st[so + 2 + d] = st[so + 2 + d] * a + p[po + 2 + d] * b;
    }

    /** {@code out = acc / l} (0 for a row that saw no key). */
    static void normalise(float[] st, int so, float[] out, int oo, int hd) {
        float l = st[so + 1], inv = l > 0 ? 1f / l : 0f;
        int d = 0;
        for (; d <= hd - L; d += L) FloatVector.fromArray(F, st, so + 2 + d).mul(inv).intoArray(out, oo + d);
        for (; d < hd; d++) out[oo + d] = st[so + 2 + d] * inv;
    }
}
