package jllm.doctor.numerics;

import java.util.List;

/**
 * A number format people train or store weights in, with the rounding that maps an fp32 value to
 * its nearest representable value (round to nearest, ties to even).
 *
 * <p>Floating formats are described by exponent bits, mantissa bits and bias; what differs between
 * families is what the top exponent code means: IEEE-style formats (fp32, tf32, bf16, fp16, OCP fp8
 * E5M2) reserve it for Inf/NaN, OCP fp8 E4M3 reserves only the all-ones pattern for NaN (so its max
 * is 1.75 x 2^8 = 448), and the OCP MX fp6/fp4 element types have no Inf or NaN at all. Block
 * formats (int8 absmax, NF4) have no exponent: each block of values shares an fp32 scale.
 */
public sealed interface NumberFormat permits NumberFormat.Float, NumberFormat.Int8, NumberFormat.Nf4 {
    String name();

    /** Bits per stored value (not counting a shared block scale). */
    int bits();

    String note();

    /** Rounds {@code x} with no scaling: the plain cast (overflow per the format's rules). */
    double round(double x);

    /** What happens above the largest finite value. */
    enum Overflow { INF, SATURATE }

    record Float(String name, int expBits, int manBits, int bias, Specials specials, String note) implements NumberFormat {
        /** Which codes of the top exponent are not finite numbers. */
        public enum Specials { IEEE, NAN_ONLY_ALL_ONES, NONE }

        @Override public int bits() { return 1 + expBits + manBits; }

        /** The exponent of the largest finite value. */
        public int maxExponent() {
            int top = (1 << expBits) - 1 - bias;
            return specials == Specials.IEEE ? top - 1 : top;
        }

        public double max() {
            double mant = specials == Specials.NAN_ONLY_ALL_ONES ? 2 - 2 * Math.pow(2, -manBits) : 2 - Math.pow(2, -manBits);
            return mant * Math.pow(2, maxExponent());
        }

        public double minNormal() { return Math.pow(2, 1 - bias); }

        public double minSubnormal() { return Math.pow(2, 1 - bias - manBits); }

        /** Distance from 1 to the next larger value. */
        public double epsilon() { return Math.pow(2, -manBits); }

        /** The rough cost of a multiplier: exponent adder plus mantissa multiplier array (exp bits + mantissa bits^2). */
        public int multiplierCost() { return expBits + manBits * manBits; }

        public Overflow overflow() { return specials == Specials.IEEE ? Overflow.INF : Overflow.SATURATE; }

        @Override
        public double round(double x) {
            if (Double.isNaN(x) || x == 0) return x;
            double a = Math.abs(x);
            if (Double.isInfinite(a)) return overflow() == Overflow.INF ? x : Math.copySign(max(), x);
            // Quantum of the binade a falls in, never finer than the subnormal step.
            int e = Math.max(Math.getExponent(a), 1 - bias);
            double q = Math.scalb(1.0, e - manBits);
            double r = Math.rint(a / q) * q;
            if (r > max()) {
                // Round to nearest: anything below max + half a step still rounds down to max.
                double halfStep = Math.scalb(1.0, maxExponent() - manBits) / 2;
                if (overflow() == Overflow.INF && a >= max() + halfStep) return Math.copySign(Double.POSITIVE_INFINITY, x);
                r = max();
            }
            return Math.copySign(r, x);
        }
    }

    /** Symmetric int8 with one absmax scale per block: q = round(127 x / absmax). */
    record Int8(int block) implements NumberFormat {
        @Override public String name() { return "int8"; }
        @Override public int bits() { return 8; }
        @Override public String note() { return "absmax per block of " + block + " (like GGUF q8_0): 255 levels, step = absmax/127"; }
        @Override public double round(double x) { return Math.max(-127, Math.min(127, Math.rint(x))); }
    }

    /** QLoRA's 4-bit NormalFloat: 16 levels at normal quantiles, one absmax scale per block. */
    record Nf4(int block, double[] levels) implements NumberFormat {
        @Override public String name() { return "nf4"; }
        @Override public int bits() { return 4; }
        @Override public String note() { return "16 levels at normal quantiles (QLoRA), absmax per block of " + block; }

        @Override
        public double round(double x) {
            double best = levels[0];
            for (double l : levels) if (Math.abs(l - x) < Math.abs(best - x)) best = l;
            return best;
        }
    }

    static Float fp(String name, int e, int m, int bias, Float.Specials s, String note) { return new Float(name, e, m, bias, s, note); }

    Float FP32 = fp("fp32", 8, 23, 127, Float.Specials.IEEE, "IEEE single");
    Float TF32 = fp("tf32", 8, 10, 127, Float.Specials.IEEE, "NVIDIA tensor-core input: fp32 range, fp16 precision (19 bits used)");
    Float BF16 = fp("bf16", 8, 7, 127, Float.Specials.IEEE, "bfloat16: fp32 range, 8 significant bits");
    Float FP16 = fp("fp16", 5, 10, 15, Float.Specials.IEEE, "IEEE half");
    Float E4M3 = fp("fp8_e4m3", 4, 3, 7, Float.Specials.NAN_ONLY_ALL_ONES, "OCP FP8 E4M3: no Inf, S.1111.111 = NaN; casts saturate here");
    Float E5M2 = fp("fp8_e5m2", 5, 2, 15, Float.Specials.IEEE, "OCP FP8 E5M2: IEEE-style Inf/NaN");
    Float E2M3 = fp("fp6_e2m3", 2, 3, 1, Float.Specials.NONE, "OCP MX FP6: no Inf/NaN");
    Float E3M2 = fp("fp6_e3m2", 3, 2, 3, Float.Specials.NONE, "OCP MX FP6: no Inf/NaN");
    Float E2M1 = fp("fp4_e2m1", 2, 1, 1, Float.Specials.NONE, "OCP MX FP4: values 0, 0.5, 1, 1.5, 2, 3, 4, 6");

    static List<NumberFormat> all() {
        return List.of(FP32, TF32, BF16, FP16, E4M3, E5M2, E2M3, E3M2, E2M1, new Int8(32), new Nf4(64, Nf4Levels.levels()));
    }
}
