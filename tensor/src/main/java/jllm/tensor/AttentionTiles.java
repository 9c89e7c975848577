package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked kernels of training's attention ({@link CpuAttention}'s packed-example forward and
 * backward), four query rows at a time so that each key or value vector loaded feeds four rows:
 * <ul>
 *   <li>{@link #scores}: four rows of {@code S = q k^T * scale} (soft-capped) from transposed keys, two
 *       key blocks per pass (8 accumulators: 2 loads and 4 broadcasts per 8 FMAs);</li>
 *   <li>{@link #weighted}: four rows of {@code sum_j (w_ij m_i) v_j} ({@code P V}, {@code dS K}), 64
 *       output dims per pass (16 accumulators: 4 loads and 4 broadcasts per 16 FMAs);</li>
 *   <li>{@link #keyPair}: two keys' {@code dk += sum_r (dS_rj c) q_r}, {@code dv += sum_r P_rj dO_r}
 *       over rows in order, the key gradients held in registers (16 accumulators).</li>
 * </ul>
 * A "row" that is not there is given as a copy of row 0 (the same inputs and the same destination):
 * it computes and stores row 0's values again. Every output element is the same FMA chain it would be
 * in a one-row kernel (over d, or over j / r in order), so results do not depend on how rows are
 * grouped or on the thread count.
 */
final class AttentionTiles {
    private AttentionTiles() { }

    private static final VectorSpecies<Float> F = CpuBackend.F;
    private static final int L = F.length();

    /**
     * {@code dst[d_i + j] = (sum_d kt[d * stride + j] q[q_i + d]) * scale}, soft-capped when
     * {@code softcap > 0}, for the key blocks covering {@code [jlo, jhi]} ({@code jlo} rounded down to a
     * block; whole blocks are written, so dst rows need {@code stride} floats).
     */
    static void scores(float[] q, int q0, int q1, int q2, int q3, float[] kt, int stride, int hd, int jlo, int jhi, float scale, float softcap,
                       float[] dst, int d0, int d1, int d2, int d3) {
        int jb = jlo / L * L;
        for (; jb + L <= jhi; jb += 2 * L) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
            for (int d = 0, o = jb; d < hd; d++, o += stride) {
                FloatVector u = FloatVector.fromArray(F, kt, o), v = FloatVector.fromArray(F, kt, o + L), s;
                s = FloatVector.broadcast(F, q[q0 + d]); a0 = u.fma(s, a0); b0 = v.fma(s, b0);
                s = FloatVector.broadcast(F, q[q1 + d]); a1 = u.fma(s, a1); b1 = v.fma(s, b1);
                s = FloatVector.broadcast(F, q[q2 + d]); a2 = u.fma(s, a2); b2 = v.fma(s, b2);
                s = FloatVector.broadcast(F, q[q3 + d]); a3 = u.fma(s, a3); b3 = v.fma(s, b3);
            }
            put(a0, scale, softcap, dst, d0 + jb); put(b0, scale, softcap, dst, d0 + jb + L);
            put(a1, scale, softcap, dst, d1 + jb); put(b1, scale, softcap, dst, d1 + jb + L);
            put(a2, scale, softcap, dst, d2 + jb); put(b2, scale, softcap, dst, d2 + jb + L);
            put(a3, scale, softcap, dst, d3 + jb); put(b3, scale, softcap, dst, d3 + jb + L);
        }
        for (; jb <= jhi; jb += L) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            for (int d = 0, o = jb; d < hd; d++, o += stride) {
                FloatVector u = FloatVector.fromArray(F, kt, o);
                a0 = u.fma(FloatVector.broadcast(F, q[q0 + d]), a0);
                a1 = u.fma(FloatVector.broadcast(F, q[q1 + d]), a1);
                a2 = u.fma(FloatVector.broadcast(F, q[q2 + d]), a2);
                a3 = u.fma(FloatVector.broadcast(F, q[q3 + d]), a3);
            }
            put(a0, scale, softcap, dst, d0 + jb);
            put(a1, scale, softcap, dst, d1 + jb);
            put(a2, scale, softcap, dst, d2 + jb);
            put(a3, scale, softcap, dst, d3 + jb);
        }
    }

    private static void put(FloatVector acc, float scale, float softcap, float[] dst, int at) {
        acc.mul(scale).intoArray(dst, at);
        if (softcap > 0) for (int j = at; j < at + L; j++) dst[j] = (float) (softcap * Math.tanh(dst[j] / softcap));
    }

    /**
     * {@code out[o_i + d] = sum_{j = jlo..jhi} (w[w_i + j] * m_i) v[vBase + j * vStride + d]} for
     * {@code d < hd}, each a chain of FMAs in j order from zero (weights outside a row's own keys must
     * be 0 in w).
     */
    static void weighted(float[] w, int w0, int w1, int w2, int w3, float m0, float m1, float m2, float m3, int jlo, int jhi,
                         float[] v, int vBase, int vStride, int hd, float[] out, int o0, int o1, int o2, int o3) {
        int d0 = 0;
        for (; d0 + 4 * L <= hd; d0 += 4 * L) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
            FloatVector c0 = z, c1 = z, c2 = z, c3 = z, e0 = z, e1 = z, e2 = z, e3 = z;
            for (int j = jlo, vo = vBase + jlo * vStride + d0; j <= jhi; j++, vo += vStride) {
                FloatVector x0 = FloatVector.fromArray(F, v, vo), x1 = FloatVector.fromArray(F, v, vo + L);
                FloatVector x2 = FloatVector.fromArray(F, v, vo + 2 * L), x3 = FloatVector.fromArray(F, v, vo + 3 * L), s;
                s = FloatVector.broadcast(F, w[w0 + j] * m0); a0 = x0.fma(s, a0); b0 = x1.fma(s, b0); c0 = x2.fma(s, c0); e0 = x3.fma(s, e0);
                s = FloatVector.broadcast(F, w[w1 + j] * m1); a1 = x0.fma(s, a1); b1 = x1.fma(s, b1); c1 = x2.fma(s, c1); e1 = x3.fma(s, e1);
                s = FloatVector.broadcast(F, w[w2 + j] * m2); a2 = x0.fma(s, a2); b2 = x1.fma(s, b2); c2 = x2.fma(s, c2); e2 = x3.fma(s, e2);
                s = FloatVector.broadcast(F, w[w3 + j] * m3); a3 = x0.fma(s, a3); b3 = x1.fma(s, b3); c3 = x2.fma(s, c3); e3 = x3.fma(s, e3);
            }
            store4(a0, b0, c0, e0, out, o0 + d0);
            store4(a1, b1, c1, e1, out, o1 + d0);
            store4(a2, b2, c2, e2, out, o2 + d0);
            store4(a3, b3, c3, e3, out, o3 + d0);
        }
        for (; d0 + L <= hd; d0 += L) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            for (int j = jlo, vo = vBase + jlo * vStride + d0; j <= jhi; j++, vo += vStride) {
                FloatVector x0 = FloatVector.fromArray(F, v, vo);
                a0 = x0.fma(FloatVector.broadcast(F, w[w0 + j] * m0), a0);
                a1 = x0.fma(FloatVector.broadcast(F, w[w1 + j] * m1), a1);
                a2 = x0.fma(FloatVector.broadcast(F, w[w2 + j] * m2), a2);
                a3 = x0.fma(FloatVector.broadcast(F, w[w3 + j] * m3), a3);
            }
            a0.intoArray(out, o0 + d0);
            a1.intoArray(out, o1 + d0);
            a2.intoArray(out, o2 + d0);
            a3.intoArray(out, o3 + d0);
        }
        for (; d0 < hd; d0++) {
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (int j = jlo, vo = vBase + jlo * vStride + d0; j <= jhi; j++, vo += vStride) {
                float x = v[vo];
                a0 = Math.fma(x, w[w0 + j] * m0, a0);
                a1 = Math.fma(x, w[w1 + j] * m1, a1);
                a2 = Math.fma(x, w[w2 + j] * m2, a2);
                a3 = Math.fma(x, w[w3 + j] * m3, a3);
            }
            out[o0 + d0] = a0;
            out[o1 + d0] = a1;
            out[o2 + d0] = a2;
            out[o3 + d0] = a3;
        }
    }

    private static void store4(FloatVector a, FloatVector b, FloatVector c, FloatVector e, float[] out, int at) {
        a.intoArray(out, at);
        b.intoArray(out, at + L);
        c.intoArray(out, at + 2 * L);
        e.intoArray(out, at + 3 * L);
    }

    /**
     * For keys {@code ja <= jb} (equal: one key): {@code dk_j += sum_r (dS[r][j] * scale) q_r} and
     * {@code dv_j += sum_r P[r][j] dO_r} over rows {@code r0 <= r < r1} in order, continuing the chains
     * from dk's and dv's current values. Row r sits at position {@code pos[r]} with first visible key
     * {@code first[r]} and its vector at {@code off[r]} of q and dO; a key outside a row's range adds nothing.
     */
    static void keyPair(float[] sTile, float[] pTile, int stride, int ja, int jb, int r0, int r1, int[] pos, int[] first, int[] off,
                        float[] q, float[] dOut, float scale, float[] dk, float[] dv, int ka, int kb, int hd) {
        int d0 = 0;
        for (; d0 + 2 * L <= hd; d0 += 2 * L) {
            FloatVector ka0 = FloatVector.fromArray(F, dk, ka + d0), ka1 = FloatVector.fromArray(F, dk, ka + d0 + L);
            FloatVector va0 = FloatVector.fromArray(F, dv, ka + d0), va1 = FloatVector.fromArray(F, dv, ka + d0 + L);
            FloatVector kb0 = FloatVector.fromArray(F, dk, kb + d0), kb1 = FloatVector.fromArray(F, dk, kb + d0 + L);
            FloatVector vb0 = FloatVector.fromArray(F, dv, kb + d0), vb1 = FloatVector.fromArray(F, dv, kb + d0 + L);
            for (int r = r0; r < r1; r++) {
                int p = pos[r], f = first[r];
                if (f > jb) break;
                boolean inA = p >= ja && f <= ja, inB = p >= jb && f <= jb;
                if (!inA && !inB) continue;
                int o = off[r] + d0, t = r * stride;
                FloatVector q0 = FloatVector.fromArray(F, q, o), q1 = FloatVector.fromArray(F, q, o + L);
                FloatVector g0 = FloatVector.fromArray(F, dOut, o), g1 = FloatVector.fromArray(F, dOut, o + L);
                if (inA) {
                    FloatVector s = FloatVector.broadcast(F, sTile[t + ja] * scale), pr = FloatVector.broadcast(F, pTile[t + ja]);
                    ka0 = q0.fma(s, ka0); ka1 = q1.fma(s, ka1); va0 = g0.fma(pr, va0); va1 = g1.fma(pr, va1);
                }
                if (inB && jb != ja) {
                    FloatVector s = FloatVector.broadcast(F, sTile[t + jb] * scale), pr = FloatVector.broadcast(F, pTile[t + jb]);
                    kb0 = q0.fma(s, kb0); kb1 = q1.fma(s, kb1); vb0 = g0.fma(pr, vb0); vb1 = g1.fma(pr, vb1);
                }
            }
            ka0.intoArray(dk, ka + d0); ka1.intoArray(dk, ka + d0 + L); va0.intoArray(dv, ka + d0); va1.intoArray(dv, ka + d0 + L);
            if (jb != ja) { kb0.intoArray(dk, kb + d0); kb1.intoArray(dk, kb + d0 + L); vb0.intoArray(dv, kb + d0); vb1.intoArray(dv, kb + d0 + L); }
        }
        for (; d0 < hd; d0++) {
            for (int key = 0; key < (jb != ja ? 2 : 1); key++) {
                int j = key == 0 ? ja : jb, ko = (key == 0 ? ka : kb) + d0;
                float k = dk[ko], vv = dv[ko];
                for (int r = r0; r < r1; r++) {
                    int p = pos[r], f = first[r];
                    if (f > jb) break;
                    if (p < j || f > j) continue;
                    int o = off[r] + d0, t = r * stride;
                    k = Math.fma(q[o], sTile[t + j] * scale, k);
                    vv = Math.fma(dOut[o], pTile[t + j], vv);
                }
                dk[ko] = k;
                dv[ko] = vv;
            }
        }
    }
}
