package jllm.doctor.numerics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jllm.doctor.chart.LineChart;

/**
 * What each number format costs in accuracy: the error of rounding a tensor to it, plainly cast
 * and with the block scaling real deployments use, and how low-precision RoPE positions collapse.
 */
public final class Numerics {
    /** OCP MX block size: 32 elements share one power-of-two (E8M0) scale. */
    public static final int MX_BLOCK = 32;

    private Numerics() {}

    /** Rounding error of one format on one tensor: rel L2 ||r - x|| / ||x|| and max |r - x|; NaN where not applicable. */
    public record Error(double castRel, double castMaxAbs, double scaledRel, double scaledMaxAbs, String scaling) {}

    public static Error error(NumberFormat f, float[] x) {
        return switch (f) {
            case NumberFormat.Float fl -> {
                double[] cast = measure(x, fl::round);
                boolean narrow = fl.bits() <= 8;
                double[] scaled = narrow ? measureBlocks(x, MX_BLOCK, (blk, out) -> mxBlock(fl, blk, out)) : new double[] {Double.NaN, Double.NaN};
                yield new Error(cast[0], cast[1], scaled[0], scaled[1], narrow ? "MX: power-of-two scale per " + MX_BLOCK : "none needed");
            }
            case NumberFormat.Int8 i -> {
                double[] s = measureBlocks(x, i.block(), (blk, out) -> absmaxBlock(blk, out, 127, v -> i.round(v * 127) / 127));
                yield new Error(Double.NaN, Double.NaN, s[0], s[1], "absmax per " + i.block());
            }
            case NumberFormat.Nf4 n -> {
                double[] s = measureBlocks(x, n.block(), (blk, out) -> absmaxBlock(blk, out, 1, n::round));
                yield new Error(Double.NaN, Double.NaN, s[0], s[1], "absmax per " + n.block());
            }
        };
    }

    private static double[] measure(float[] x, java.util.function.DoubleUnaryOperator r) {
        double diff = 0, norm = 0, maxAbs = 0;
        for (float v : x) {
            double d = r.applyAsDouble(v) - v;
            if (Double.isNaN(d) || Double.isInfinite(d)) { maxAbs = Double.POSITIVE_INFINITY; diff = Double.POSITIVE_INFINITY; continue; }
            diff += d * d;
            norm += (double) v * v;
            maxAbs = Math.max(maxAbs, Math.abs(d));
        }
        return new double[] {norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm), maxAbs};
    }

    private interface BlockRounder { void round(float[] block, double[] out); }

    private static double[] measureBlocks(float[] x, int size, BlockRounder r) {
        double diff = 0, norm = 0, maxAbs = 0;
        for (int off = 0; off < x.length; off += size) {
            float[] blk = java.util.Arrays.copyOfRange(x, off, Math.min(x.length, off + size));
            double[] out = new double[blk.length];
            r.round(blk, out);
            for (int i = 0; i < blk.length; i++) {
                double d = out[i] - blk[i];
                diff += d * d;
                norm += (double) blk[i] * blk[i];
                maxAbs = Math.max(maxAbs, Math.abs(d));
            }
        }
        return new double[] {norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm), maxAbs};
    }

    /**
     * OCP MX scaling: the block's shared scale is 2^(floor(log2(amax)) - emax), emax being the
     * element format's largest exponent, so the block maximum lands in the top binade.
     */
    static void mxBlock(NumberFormat.Float f, float[] blk, double[] out) {
        double amax = 0;
        for (float v : blk) amax = Math.max(amax, Math.abs(v));
        if (amax == 0) return;
        double scale = Math.scalb(1.0, Math.getExponent(amax) - f.maxExponent());
        for (int i = 0; i < blk.length; i++) {
            double r = f.round(blk[i] / scale);
            if (Double.isInfinite(r)) r = Math.copySign(f.max(), r);
            out[i] = r * scale;
        }
    }

    private static void absmaxBlock(float[] blk, double[] out, double unit, java.util.function.DoubleUnaryOperator roundUnit) {
        double amax = 0;
        for (float v : blk) amax = Math.max(amax, Math.abs(v));
        if (amax == 0) return;
        for (int i = 0; i < blk.length; i++) out[i] = roundUnit.applyAsDouble(blk[i] / amax) * amax;
    }

    /** Seeded N(0, std) values: what a weight matrix typically looks like. */
    public static float[] normal(int n, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u = r.nextDouble(), v = r.nextDouble();
            double m = Math.sqrt(-2 * Math.log(1 - u));
            x[i] = (float) (std * m * Math.cos(2 * Math.PI * v));
            if (i + 1 < n) x[i + 1] = (float) (std * m * Math.sin(2 * Math.PI * v));
        }
        return x;
    }

    // ---- RoPE positions in low precision ----

    /** A position as stored in bf16 and fp16, and the angle error at the fastest RoPE frequency (1 rad per position). */
    public record RopeRow(int position, double bf16, double fp16, double bf16AngleErr, double fp16AngleErr) {}

    public static List<RopeRow> ropePositions(int from, int to) {
        List<RopeRow> out = new ArrayList<>();
        for (int p = from; p <= to; p++) {
            double b = NumberFormat.BF16.round(p), h = NumberFormat.FP16.round(p);
            out.add(new RopeRow(p, b, h, Math.abs(b - p), Math.abs(h - p)));
        }
        return out;
    }

    /** Positions that collapse onto the same bf16 value, grouped by that value. */
    public static Map<Double, List<Integer>> bf16Collisions(int from, int to) {
        Map<Double, List<Integer>> m = new LinkedHashMap<>();
        for (int p = from; p <= to; p++) m.computeIfAbsent(NumberFormat.BF16.round(p), k -> new ArrayList<>()).add(p);
        m.values().removeIf(l -> l.size() < 2);
        return m;
    }

    /**
     * Worst angle error of the fastest frequency (inv_freq = 1) when positions are held in bf16/fp16,
     * in windows of 128 positions up to {@code maxPos}: the error is the rounding of the position
     * itself, so it steps up with the spacing of representable values (bf16: 64 apart above 8192).
     */
    public static LineChart ropeChart(int maxPos) {
        int window = 128, n = Math.max(1, maxPos / window);
        double[] x = new double[n], b = new double[n], h = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (double) i * window;
            for (int p = i * window; p < (i + 1) * window; p++) {
                b[i] = Math.max(b[i], Math.abs(NumberFormat.BF16.round(p) - p));
                h[i] = Math.max(h[i], Math.abs(NumberFormat.FP16.round(p) - p));
            }
        }
        return LineChart.of("RoPE: angle error when positions are stored in bf16 / fp16", "position",
                        "worst angle error, fastest frequency (rad)")
                .logY(true).subtitle("worst case per 128 positions; fp32 is exact below 2^24")
                .series("bf16 positions", x, b).series("fp16 positions", x, h).marker("1 rad", 1);
    }
}
