package jllm.doctor.numerics;

import java.util.Arrays;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * NF4's 16 levels, built as QLoRA defines them (Dettmers et al. 2023, and bitsandbytes'
 * {@code create_normal_map(offset=0.9677083, use_extra_value=True)}): 8 positive levels at the normal
 * quantiles of 8 evenly spaced probabilities from the offset down to 0.5 (exclusive), 7 negative
 * levels from 7 such probabilities, an exact zero, all divided by the largest. An asymmetric split
 * gives zero an exact code.
 */
public final class Nf4Levels {
    static final double OFFSET = 0.9677083;

    private Nf4Levels() {}

    public static double[] levels() {
        NormalDistribution n = new NormalDistribution(null, 0, 1);
        double[] pos = quantiles(n, 9), neg = quantiles(n, 8);
        double[] out = new double[16];
        int k = 0;
        for (double v : pos) out[k++] = v;
        for (double v : neg) out[k++] = -v;
        out[k] = 0;
        Arrays.sort(out);
        double max = out[15];
        for (int i = 0; i < 16; i++) out[i] /= max;
        return out;
    }

    /** ppf of {@code count - 1} probabilities linspace(OFFSET, 0.5, count) without the final 0.5 (computed in fp32 as torch does). */
    private static double[] quantiles(NormalDistribution n, int count) {
        double[] q = new double[count - 1];
        for (int i = 0; i < count - 1; i++) {
            float p = (float) (OFFSET + (0.5 - OFFSET) * i / (count - 1));
            q[i] = n.inverseCumulativeProbability(p);
        }
        return q;
    }
}
