package jllm.doctor.tokens;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import jllm.tensor.Tensor;

/**
 * Finds token rows that were never trained. Released base models (Llama 3 and others) ship special
 * tokens whose embedding rows are all (near) zero; a fine-tune whose chat template uses them starts
 * from garbage and can blow up. The rule (Unsloth's): the embedding row's max |x| is at most 1e-16,
 * and the LM head row is too, or is a duplicate of another head row after rounding to 3 decimals
 * (heads initialised to one shared value; a zero check alone misses Llama 3.1).
 */
public final class UntrainedTokens {
    public static final double EPS = 1e-16;

    /** Per-row statistics and the verdict. {@code lmDuplicate}: the head row equals another's to 3 decimals. */
    public record Row(int id, double embedMax, double lmMax, boolean lmDuplicate) {
        public boolean untrained() { return embedMax <= EPS && (lmMax <= EPS || lmDuplicate); }
    }

    /**
     * @param embedMax per-row max |x| of the embedding (the chart draws it)
     * @param tied     the LM head is the embedding matrix
     */
    public record Scan(int vocab, int hidden, boolean tied, List<Row> untrained, double[] embedMax) {
        public int[] ids() { return untrained.stream().mapToInt(Row::id).toArray(); }
    }

    private UntrainedTokens() {}

    /** Scans {@code embed} [V, H] and {@code lmHead} [V', H] (the same object when tied; null when absent). */
    public static Scan scan(Tensor embed, Tensor lmHead) {
        int V = embed.dim(0), H = embed.dim(1);
        boolean tied = lmHead == null || lmHead == embed;
        double[] em = rowMax(embed);
        double[] lm = tied ? em : rowMax(lmHead);
        boolean[] dup = tied ? new boolean[V] : duplicates(lmHead);
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < V; i++) {
            double l = i < lm.length ? lm[i] : em[i];
            Row r = new Row(i, em[i], l, i < dup.length && dup[i]);
            if (r.untrained()) out.add(r);
        }
        return new Scan(V, H, tied, out, em);
    }

    static double[] rowMax(Tensor t) {
        int rows = t.dim(0), cols = t.dim(1);
        double[] out = new double[rows];
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols];
            t.read((long) r * cols, row, 0, cols);
            double m = 0;
            for (float x : row) {
                if (Float.isNaN(x)) { m = Double.NaN; break; }
                m = Math.max(m, Math.abs(x));
            }
            out[r] = m;
        });
        return out;
    }

    /**
     * Rows equal to another row after rounding every value to 3 decimals. Rows are compared by a
     * 64-bit hash of the rounded values: a false "duplicate" needs a hash collision (~V²/2^64).
     */
    static boolean[] duplicates(Tensor t) {
        int rows = t.dim(0), cols = t.dim(1);
        long[] hash = new long[rows];
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols];
            t.read((long) r * cols, row, 0, cols);
            long h = 0x9E3779B97F4A7C15L;
            for (float x : row) {
                long q = Math.round(x * 1000.0);
                if (q == 0) q = 0; // -0.0004 and 0.0004 both round to 0
                h = mix(h ^ q);
            }
            hash[r] = h;
        });
        Map<Long, Integer> count = new HashMap<>();
        for (long h : hash) count.merge(h, 1, Integer::sum);
        boolean[] dup = new boolean[rows];
        for (int r = 0; r < rows; r++) dup[r] = count.get(hash[r]) > 1;
        return dup;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The fp32 mean of the rows not in {@code skip}: what an untrained row is set to. */
    public static float[] meanOfOtherRows(Tensor t, Set<Integer> skip) {
        int rows = t.dim(0), cols = t.dim(1);
        double[] sum = new double[cols];
        float[] row = new float[cols];
        long n = 0;
        for (int r = 0; r < rows; r++) {
            if (skip.contains(r)) continue;
            t.read((long) r * cols, row, 0, cols);
            for (int j = 0; j < cols; j++) sum[j] += row[j];
            n++;
        }
        if (n == 0) throw new IllegalArgumentException("every row is untrained: there is no trained row to take the mean of");
        float[] mean = new float[cols];
        for (int j = 0; j < cols; j++) mean[j] = (float) (sum[j] / n);
        return mean;
    }
}
