package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernel of both backward products: a {@value #M} x {@code N} tile of C gets
 * {@code C[i, j] (+)= sum_k a[k][i] * b[k][j]}: {@code a} gives {@code M} adjacent scalars per k (rows
 * {@code as} floats apart), {@code b} {@code N = 2} vectors per k (rows {@code bs} floats apart). Twelve accumulators stay in registers; per k two
 * vector loads and six broadcasts feed twelve FMAs (an outer product: no horizontal sums), the shape
 * the forward {@link PanelMatmul} kernel reaches ~80% of the FMA peak with.
 *
 * <p>Each C element is one fp32 FMA chain in k order, started from C (or zero), so its value depends
 * only on the operands and on where the caller cuts k, never on threads or tile position.
 */
final class OuterTile {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Rows of a tile: broadcast operand values per k. */
    static final int M = 6;
    /** Columns of a tile: two vectors. */
    static final int N = 2 * L;

    private OuterTile() { }

    /**
     * A row stride of at least {@code n} floats for a packed operand the kernel walks down: a whole
     * number of tiles, and an odd number of 64-byte lines, so that successive rows fall into different
     * L1 sets (a stride of a multiple of 4 KiB would put every row of a strip in the same set).
     */
    static int stride(int n) {
        int s = (n + N - 1) / N * N, line = 16;
        return (s / line) % 2 == 1 ? s : s + line;
    }

    /**
     * {@code c[c0 + i * cs + j] = (load ? c[..] : 0) + sum_{k < kn} a[a0 + k * as + i] * b[b0 + k * bs + j]}
     * for {@code i < M}, {@code j < N}. (The six values of a are adjacent: with a variable distance
     * between them the kernel lost a third of its speed.)
     */
    static void tile(float[] a, int a0, int as, float[] b, int b0, int bs, int kn, float[] c, int c0, int cs, boolean load) {
        int r0 = c0, r1 = r0 + cs, r2 = r1 + cs, r3 = r2 + cs, r4 = r3 + cs, r5 = r4 + cs;
        FloatVector x0, x1, x2, x3, x4, x5, y0, y1, y2, y3, y4, y5;
        if (load) {
            x0 = FloatVector.fromArray(F, c, r0); y0 = FloatVector.fromArray(F, c, r0 + L);
            x1 = FloatVector.fromArray(F, c, r1); y1 = FloatVector.fromArray(F, c, r1 + L);
            x2 = FloatVector.fromArray(F, c, r2); y2 = FloatVector.fromArray(F, c, r2 + L);
            x3 = FloatVector.fromArray(F, c, r3); y3 = FloatVector.fromArray(F, c, r3 + L);
            x4 = FloatVector.fromArray(F, c, r4); y4 = FloatVector.fromArray(F, c, r4 + L);
            x5 = FloatVector.fromArray(F, c, r5); y5 = FloatVector.fromArray(F, c, r5 + L);
        } else {
            FloatVector z = FloatVector.zero(F);
            x0 = z; x1 = z; x2 = z; x3 = z; x4 = z; x5 = z; y0 = z; y1 = z; y2 = z; y3 = z; y4 = z; y5 = z;
        }
        for (int k = 0, ao = a0, bo = b0; k < kn; k++, ao += as, bo += bs) {
            FloatVector u = FloatVector.fromArray(F, b, bo), v = FloatVector.fromArray(F, b, bo + L), s;
            s = FloatVector.broadcast(F, a[ao]); x0 = u.fma(s, x0); y0 = v.fma(s, y0);
            s = FloatVector.broadcast(F, a[ao + 1]); x1 = u.fma(s, x1); y1 = v.fma(s, y1);
            s = FloatVector.broadcast(F, a[ao + 2]); x2 = u.fma(s, x2); y2 = v.fma(s, y2);
            s = FloatVector.broadcast(F, a[ao + 3]); x3 = u.fma(s, x3); y3 = v.fma(s, y3);
            s = FloatVector.broadcast(F, a[ao + 4]); x4 = u.fma(s, x4); y4 = v.fma(s, y4);
            s = FloatVector.broadcast(F, a[ao + 5]); x5 = u.fma(s, x5); y5 = v.fma(s, y5);
        }
        x0.intoArray(c, r0); y0.intoArray(c, r0 + L);
        x1.intoArray(c, r1); y1.intoArray(c, r1 + L);
        x2.intoArray(c, r2); y2.intoArray(c, r2 + L);
        x3.intoArray(c, r3); y3.intoArray(c, r3 + L);
        x4.intoArray(c, r4); y4.intoArray(c, r4 + L);
        x5.intoArray(c, r5); y5.intoArray(c, r5 + L);
    }

    /**
     * As {@link #tile} for a tile that sticks out of C: only {@code rows x cols} of it are real. The
     * real part goes through a small buffer, so each element sees exactly the FMA chain a full tile
     * would give it.
     */
    static void edgeTile(float[] a, int a0, int as, float[] b, int b0, int bs, int kn, float[] c, int c0, int cs, int rows, int cols,
                         boolean load, float[] buf) {
        if (load) {
            for (int i = 0; i < rows; i++) System.arraycopy(c, c0 + i * cs, buf, i * N, cols);
        }
        tile(a, a0, as, b, b0, bs, kn, buf, 0, N, load);
        for (int i = 0; i < rows; i++) System.arraycopy(buf, i * N, c, c0 + i * cs, cols);
    }

    /**
     * Rows {@code [t0, t0 + nt)}, columns {@code [k0, k0 + nk)} of a row-major {@code src} (rows
     * {@code stride} apart) as groups of {@code group} rows, each stored k-major ({@code dst[g][k][group]},
     * zero past the last row): the broadcast operand of the GEMM kernels, groups spread over the threads.
     */
    static void packGroups(Parallel par, float[] src, int stride, int t0, int nt, int k0, int nk, int group, float[] dst) {
        int groups = (nt + group - 1) / group;
        par.forRange(groups, 1, (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int base = g * nk * group;
                for (int i = 0; i < group; i++) {
                    int t = g * group + i;
                    if (t < nt) {
                        int from = (t0 + t) * stride + k0;
                        for (int k = 0; k < nk; k++) dst[base + k * group + i] = src[from + k];
                    } else {
                        for (int k = 0; k < nk; k++) dst[base + k * group + i] = 0f;
                    }
                }
            }
        });
    }
}
