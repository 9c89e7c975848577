package jllm.tensor;

import static jllm.tensor.OuterTile.M;
import static jllm.tensor.OuterTile.N;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two products a linear layer's backward pass needs, for every weight format. The forward
 * product {@code y = x W^T} is {@link Backend#matmul}; here are its partners:
 * <ul>
 *   <li>{@link #dyW}: {@code dx = dy W} (the input gradient; W frozen or trainable, stored in any
 *       format, quantized ones decoded on the fly: the transposed quantized product QLoRA needs);</li>
 *   <li>{@link #dyTx}: {@code dW = dy^T x} (the weight gradient of a trainable fp32 weight).</li>
 * </ul>
 * Activations are row-major fp32 {@code [rows, n]} arrays as everywhere in the backend.
 *
 * <p>Both are packed fp32 GEMMs around one outer-product micro-kernel ({@link OuterTile}): the
 * reduction operand is cut into fixed blocks of k ({@link #KB} weight rows, {@link #TB} tokens) and
 * each output element is one FMA chain per block, added to the output block after block. Workers own
 * disjoint output tiles and the cuts never depend on the thread count, so the result is bit-identical
 * for any number of threads and any scheduling.
 */
public final class Gemm {
    private Gemm() { }

    /** Weight rows (k) per decoded panel in {@link #dyW}: one FMA chain per output element per block. */
    static final int KB = 128;
    /** Weight columns per decoded panel: a whole number of blocks of every ggml type (32 or 256 values). */
    static final int NB = 256;
    /** Tokens per pass of {@link #dyW}: bounds the packed copy of dy; each pass decodes W once more. */
    static final int T_SLAB = 128 * M;
    /** Weight rows per pass of {@link #dyW}: bounds the packed copy of dy (a multiple of {@link #KB}). */
    static final int K_SLAB = 8 * KB;
    /** Tokens (k) per block in {@link #dyTx}. */
    static final int TB = 128;
    /** Output rows per work unit of {@link #dyTx}: its packed rows of dy are 3 cache lines long. */
    static final int RB = 8 * M;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][]);

    private static float[] scratch(int which, int n) {
        float[][] s = SCRATCH.get();
        if (s[which] == null || s[which].length < n) s[which] = new float[n];
        return s[which];
    }

    // ---------------------------------------------------------------------------------------------
    // dx = dy W

    /** Where {@link #dyW} reads weight rows from: a {@link Tensor}'s decoder or a plain fp32 array. */
    @FunctionalInterface
    private interface Rows {
        /** Elements {@code [from, from + n)} of the row-major weight as fp32 into {@code dst[off..]}. */
        void read(long from, float[] dst, int off, int n);
    }

    /** {@code dx[t, c] (+)= sum_r dy[t, r] W[r, c]} for {@code t < rows}; W is {@code [out, in]}, dy {@code [rows, out]}, dx {@code [rows, in]}. */
    public static void dyW(Parallel par, Tensor w, float[] dy, int rows, float[] dx, boolean accumulate) {
        if (w.rank() != 2) throw new IllegalArgumentException("dyW needs a matrix, got " + w);
        dyW(par, w::read, w, w.dim(0), w.dim(1), dy, rows, dx, accumulate);
    }

    /**
     * As {@link #dyW(Parallel, Tensor, float[], int, float[], boolean)} for an fp32 weight held in an
     * array {@code w [out, in]} (trainable weights: full fine-tuning, LoRA factors). Gives the same
     * bits as the {@link Tensor} form over the same values.
     */
    public static void dyW(Parallel par, float[] w, int out, int in, float[] dy, int rows, float[] dx, boolean accumulate) {
        if (out < 0 || in < 0 || (long) out * in > w.length)
            throw new IllegalArgumentException("dyW [" + out + ", " + in + "]: weight array of " + w.length + " is too small");
        dyW(par, (from, dst, off, n) -> System.arraycopy(w, (int) from, dst, off, n), null, out, in, dy, rows, dx, accumulate);
    }

    private static void dyW(Parallel par, Rows w, Tensor what, int out, int in, float[] dy, int rows, float[] dx, boolean accumulate) {
        if (rows < 0 || (long) rows * out > dy.length || (long) rows * in > dx.length)
            throw new IllegalArgumentException("dyW " + (what != null ? what : "[" + out + ", " + in + "]") + " with " + rows + " rows: buffers too small");
        if (rows == 0 || in == 0) return;
        if (out == 0) {
            if (!accumulate) Arrays.fill(dx, 0, rows * in, 0f);
            return;
        }
        for (int t0 = 0; t0 < rows; t0 += T_SLAB) {
            int nt = Math.min(T_SLAB, rows - t0);
            for (int k0 = 0; k0 < out; k0 += K_SLAB) {
                int nk = Math.min(K_SLAB, out - k0);
                float[] dyp = packDy(par, dy, out, t0, nt, k0, nk);
                dxSlab(par, w, in, dyp, t0, nt, k0, nk, dx, !accumulate && k0 == 0);
            }
        }
    }

    /** {@code dy[t0 .. t0 + nt, k0 .. k0 + nk]} as groups of M tokens, each k-major: {@code dyp[g][k][M]}, zero-padded. */
    private static float[] packDy(Parallel par, float[] dy, int out, int t0, int nt, int k0, int nk) {
        float[] dyp = scratch(0, (nt + M - 1) / M * nk * M);
        OuterTile.packGroups(par, dy, out, t0, nt, k0, nk, M, dyp);
        return dyp;
    }

    /**
     * One slab: work units are (column panel, token range) pairs. Token ranges only split when there
     * are too few panels to keep the threads busy, since each range decodes its panel again.
     */
    private static void dxSlab(Parallel par, Rows w, int in, float[] dyp, int t0, int nt, int k0, int nk, float[] dx, boolean first) {
        int panels = (in + NB - 1) / NB, groups = (nt + M - 1) / M;
        int ranges = Math.max(1, Math.min(groups, (2 * par.threads() + panels - 1) / panels));
        par.forRange(panels * ranges, 1, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int p = u / ranges, r = u % ranges;
                dxUnit(w, in, dyp, p * NB, t0, nt, groups * r / ranges, groups * (r + 1) / ranges, k0, nk, dx, first);
            }
        });
    }

    /** Columns {@code [c0, c0 + NB)} of dx for token groups {@code [g0, g1)} of the slab, over its k range. */
    private static void dxUnit(Rows w, int in, float[] dyp, int c0, int t0, int nt, int g0, int g1, int k0, int nk, float[] dx, boolean first) {
        int nc = Math.min(NB, in - c0), strips = (nc + N - 1) / N, ws = OuterTile.stride(nc);
        float[] wp = scratch(1, KB * ws), buf = scratch(3, M * N);
        for (int kb = 0; kb < nk; kb += KB) {
            int kn = Math.min(KB, nk - kb);
            decodePanel(w, in, k0 + kb, kn, c0, nc, strips * N, ws, wp);
            boolean load = !(first && kb == 0);
            for (int s = 0; s < strips; s++) {
                int col = c0 + s * N, cols = Math.min(N, in - col);
                for (int g = g0; g < g1; g++) {
                    int t = g * M, tr = Math.min(M, nt - t), a0 = (g * nk + kb) * M, c = (t0 + t) * in + col;
                    if (tr == M && cols == N) OuterTile.tile(dyp, a0, M, wp, s * N, ws, kn, dx, c, in, load);
                    else OuterTile.edgeTile(dyp, a0, M, wp, s * N, ws, kn, dx, c, in, tr, cols, load, buf);
                }
            }
        }
    }

    /**
     * Weight rows {@code [k0, k0 + kn)}, columns {@code [c0, c0 + nc)} decoded to fp32 straight into the
     * panel (one {@link Tensor#read} per row: the format's own vectorised decoder), rows {@code ws}
     * floats apart; columns {@code nc .. padded} are zero.
     */
    private static void decodePanel(Rows w, long in, int k0, int kn, int c0, int nc, int padded, int ws, float[] wp) {
        for (int k = 0; k < kn; k++) {
            w.read((k0 + k) * in + c0, wp, k * ws, nc);
            if (padded > nc) Arrays.fill(wp, k * ws + nc, k * ws + padded, 0f);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // y = x W^T for a weight of few rows

    /**
     * {@code y[t, o] (+)= sum_k x[t, k] w[o, k]}: the forward product {@code x W^T} for an fp32 weight
     * {@code w [out, in]} with few rows (LoRA's {@code A [r, in]}, or {@code B^T} for {@code dY B}). The
     * packed GEMMs would waste most of a tile on an output r = 16 wide and copy all of x into their
     * packed layout; this is a dot-product kernel that reads x and w in place: 4 tokens x 4 outputs per
     * tile, 16 vector accumulators fed by 8 loads per 16 FMAs. Each output is the same FMA chain over k
     * (lane-wise, in order), summed in {@link VecMath#sum}'s fixed tree, plus the scalar tail in order,
     * whatever the tile or thread: bit-identical on any thread count.
     */
    public static void xWt(Parallel par, float[] w, int out, int in, float[] x, int rows, float[] y, boolean accumulate) {
        if (rows < 0 || out < 0 || in < 0 || (long) out * in > w.length || (long) rows * in > x.length || (long) rows * out > y.length)
            throw new IllegalArgumentException("xWt [" + out + ", " + in + "] with " + rows + " rows: buffers too small");
        if (rows == 0 || out == 0) return;
        int groups = (rows + 3) / 4;
        long perGroup = 4L * out * Math.max(1, in);
        par.forRange(groups, (int) Math.max(1, (1 << 15) / perGroup), (g0, g1) -> {
            float[] acc = scratch(2, 16 * L);
            for (int g = g0; g < g1; g++) {
                int t0 = 4 * g, nt = Math.min(4, rows - t0);
                for (int o0 = 0; o0 < out; o0 += 4) {
                    int no = Math.min(4, out - o0);
                    if (nt == 4 && no == 4) dots4x4(w, o0, in, x, t0, y, out, accumulate, acc);
                    else
                        for (int t = t0; t < t0 + nt; t++)
                            for (int o = o0; o < o0 + no; o++) {
                                float d = dot(w, o * in, x, t * in, in);
                                y[t * out + o] = accumulate ? y[t * out + o] + d : d;
                            }
                }
            }
        });
    }

    private static final VectorSpecies<Float> F = OuterTile.F;
    private static final int L = OuterTile.L;

    /** One output of {@link #xWt}: the chain every tile gives it. */
    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int vend = n / L * L;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < vend; k += L)
            acc = FloatVector.fromArray(F, a, ao + k).fma(FloatVector.fromArray(F, b, bo + k), acc);
        float s = VecMath.sum(acc);
        for (int k = vend; k < n; k++) s += a[ao + k] * b[bo + k];
        return s;
    }

    /** Tokens {@code t0..t0+3} against weight rows {@code o0..o0+3}. */
    private static void dots4x4(float[] w, int o0, int in, float[] x, int t0, float[] y, int out, boolean accumulate, float[] acc) {
        int vend = in / L * L;
        int w0 = o0 * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
        int x0 = t0 * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        var z = FloatVector.zero(F);
        var a00 = z; var a01 = z; var a02 = z; var a03 = z;
        var a10 = z; var a11 = z; var a12 = z; var a13 = z;
        var a20 = z; var a21 = z; var a22 = z; var a23 = z;
        var a30 = z; var a31 = z; var a32 = z; var a33 = z;
        for (int k = 0; k < vend; k += L) {
            var v0 = FloatVector.fromArray(F, w, w0 + k);
            var v1 = FloatVector.fromArray(F, w, w1 + k);
            var v2 = FloatVector.fromArray(F, w, w2 + k);
            var v3 = FloatVector.fromArray(F, w, w3 + k);
            var u = FloatVector.fromArray(F, x, x0 + k);
            a00 = v0.fma(u, a00); a01 = v1.fma(u, a01); a02 = v2.fma(u, a02); a03 = v3.fma(u, a03);
            u = FloatVector.fromArray(F, x, x1 + k);
            a10 = v0.fma(u, a10); a11 = v1.fma(u, a11); a12 = v2.fma(u, a12); a13 = v3.fma(u, a13);
            u = FloatVector.fromArray(F, x, x2 + k);
            a20 = v0.fma(u, a20); a21 = v1.fma(u, a21); a22 = v2.fma(u, a22); a23 = v3.fma(u, a23);
            u = FloatVector.fromArray(F, x, x3 + k);
            a30 = v0.fma(u, a30); a31 = v1.fma(u, a31); a32 = v2.fma(u, a32); a33 = v3.fma(u, a33);
        }
        // Reduced from an array: a vector handed to a method of ours is boxed whenever C2 does not
        // inline it, and here it often did not (the caller is too big): 18 GMAC/s on a 59 GMAC/s core.
        a00.intoArray(acc, 0); a01.intoArray(acc, L); a02.intoArray(acc, 2 * L); a03.intoArray(acc, 3 * L);
        a10.intoArray(acc, 4 * L); a11.intoArray(acc, 5 * L); a12.intoArray(acc, 6 * L); a13.intoArray(acc, 7 * L);
        a20.intoArray(acc, 8 * L); a21.intoArray(acc, 9 * L); a22.intoArray(acc, 10 * L); a23.intoArray(acc, 11 * L);
        a30.intoArray(acc, 12 * L); a31.intoArray(acc, 13 * L); a32.intoArray(acc, 14 * L); a33.intoArray(acc, 15 * L);
        for (int t = 0; t < 4; t++)
            for (int o = 0; o < 4; o++)
                finish(acc, (4 * t + o) * L, w, w0 + o * in, x, x0 + t * in, vend, in, y, t0 * out + o0 + t * out + o, accumulate);
    }

    /** The lanes of one output's accumulator ({@code acc[ao ..]}) in the fixed tree, then the scalar tail in order. */
    private static void finish(float[] acc, int ao, float[] w, int wo, float[] x, int xo, int vend, int in, float[] y, int yo, boolean accumulate) {
        float s = VecMath.sum(FloatVector.fromArray(F, acc, ao));
        for (int k = vend; k < in; k++) s += w[wo + k] * x[xo + k];
        y[yo] = accumulate ? y[yo] + s : s;
    }

    // ---------------------------------------------------------------------------------------------
    // dW = dy^T x

    /** {@code dw[r, c] (+)= sum_t dy[t, r] x[t, c]}; dy {@code [rows, out]}, x {@code [rows, in]}, dw {@code [out, in]}. */
    public static void dyTx(Parallel par, float[] dy, float[] x, int rows, int out, int in, float[] dw, boolean accumulate) {
        if (rows < 0 || out < 0 || in < 0 || (long) rows * out > dy.length || (long) rows * in > x.length || (long) out * in > dw.length)
            throw new IllegalArgumentException("dyTx [" + out + ", " + in + "] with " + rows + " rows: buffers too small");
        if (out == 0 || in == 0) return;
        if (rows == 0) {
            if (!accumulate) Arrays.fill(dw, 0, out * in, 0f);
            return;
        }
        int strips = (in + N - 1) / N, blocks = (out + RB - 1) / RB;
        // Units: (row block, strip range). Strip ranges split only when there are few row blocks (e.g. LoRA's dA, r rows).
        int ranges = Math.max(1, Math.min(strips, (4 * par.threads() + blocks - 1) / blocks));
        for (int t0 = 0; t0 < rows; t0 += TB) {
            int nt = Math.min(TB, rows - t0);
            int xs = OuterTile.stride(in);
            float[] xp = packX(par, x, in, t0, nt, xs);
            boolean load = accumulate || t0 > 0;
            int first = t0;
            par.forRange(blocks * ranges, 1, (u0, u1) -> {
                for (int u = u0; u < u1; u++) {
                    int b = u / ranges, r = u % ranges;
                    dwUnit(dy, xp, xs, first, nt, out, in, b * RB, strips * r / ranges, strips * (r + 1) / ranges, dw, load);
                }
            });
        }
    }

    /** Tokens {@code [t0, t0 + nt)} of x, rows {@code xs} floats apart (see {@link OuterTile#stride}), zero-padded to whole strips. */
    private static float[] packX(Parallel par, float[] x, int in, int t0, int nt, int xs) {
        float[] xp = scratch(0, nt * xs);
        int padded = (in + N - 1) / N * N;
        par.forRange(nt, 16, (a, b) -> {
            for (int t = a; t < b; t++) {
                System.arraycopy(x, (t0 + t) * in, xp, t * xs, in);
                if (padded > in) Arrays.fill(xp, t * xs + in, t * xs + padded, 0f);
            }
        });
        return xp;
    }

    /** Rows {@code [r0, r0 + RB)} and strips {@code [s0, s1)} of dW over the tokens of one block. */
    private static void dwUnit(float[] dy, float[] xp, int xs, int t0, int nt, int out, int in, int r0, int s0, int s1, float[] dw, boolean load) {
        int nr = Math.min(RB, out - r0), groups = (nr + M - 1) / M;
        // this unit's rows of dy, token-major [t][RB]: one copy per token, zero past the last row
        float[] dyp = scratch(1, nt * RB), buf = scratch(3, M * N);
        for (int t = 0; t < nt; t++) {
            System.arraycopy(dy, (t0 + t) * out + r0, dyp, t * RB, nr);
            if (nr < RB) Arrays.fill(dyp, t * RB + nr, (t + 1) * RB, 0f);
        }
        for (int s = s0; s < s1; s++) {
            int col = s * N, cols = Math.min(N, in - col);
            for (int g = 0; g < groups; g++) {
                int r = r0 + g * M, rr = Math.min(M, out - r), c = r * in + col;
                if (rr == M && cols == N) OuterTile.tile(dyp, g * M, RB, xp, col, xs, nt, dw, c, in, load);
                else OuterTile.edgeTile(dyp, g * M, RB, xp, col, xs, nt, dw, c, in, rr, cols, load, buf);
            }
        }
    }
}
