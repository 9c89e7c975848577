package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector reductions and exp that give the same bits in every JIT tier. The Vector API leaves the
 * order of {@code reduceLanes(ADD)} open and {@code lanewise(EXP)} calls an intrinsic that differs
 * from its interpreted fallback in the last bit, so the same kernel returned different results
 * before and after C2 compiled it (measured: a 64-element dot product and exp both changed). A
 * training step must reproduce itself exactly (gradient checkpointing recomputes layers, and the
 * same seed must give the same loss), so the kernels use these: lane-wise IEEE adds in a fixed
 * tree, and exp from a fixed polynomial.
 */
final class VecMath {
    private VecMath() { }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] ROTATE = new VectorShuffle[L];

    static {
        for (int h = 1; h < L; h *= 2) ROTATE[h] = VectorShuffle.iota(F, h, 1, true);
    }

    /** Sum of the lanes: lane i plus lane i + L/2, then i + L/4, ..., always in this order. */
    static float sum(FloatVector v) {
        for (int h = L / 2; h >= 1; h /= 2) v = v.add(v.rearrange(ROTATE[h]));
        return v.lane(0);
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;

    /**
     * e^x within 1 ulp of Math.exp for x in [-87.3, 88.7] (0 below, e^88.7 above): x = k ln2 + r with |r| <= ln2/2
     * (Cody-Waite, ln2 split in two), e^r by its Taylor series to r^7 (truncation below 1e-8
     * relative), times 2^k built in the exponent bits.
     */
    static FloatVector exp(FloatVector x) {
        var tiny = x.compare(VectorOperators.LT, -87.3f);
        x = x.max(-87.3f).min(88.7f);
        FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
        FloatVector k = t.sub(ROUNDER);
        FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1f / 5040f);
        p = p.fma(r, FloatVector.broadcast(F, 1f / 720f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        IntVector bits = ((IntVector) t.reinterpretShape(Panels.I, 0)).sub(ROUNDER_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul((FloatVector) bits.reinterpretShape(F, 0)).blend(0f, tiny);
    }

    /** The scalar twin of {@link #exp} (same steps, so a tail element matches its vector neighbours). */
    static float exp(float x) {
        if (x < -87.3f) return 0f;
        x = Math.min(Math.max(x, -87.3f), 88.7f);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float k = t - ROUNDER;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = 1f / 5040f;
        p = Math.fma(p, r, 1f / 720f);
        p = Math.fma(p, r, 1f / 120f);
        p = Math.fma(p, r, 1f / 24f);
        p = Math.fma(p, r, 1f / 6f);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - ROUNDER_BITS + 127) << 23);
    }
}
