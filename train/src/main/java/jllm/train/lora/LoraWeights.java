package jllm.train.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jllm.tensor.Gemm;
import jllm.tensor.Parallel;
import jllm.train.Param;

/**
 * One LoRA pair on a linear layer {@code y = x W^T}: {@code A [r, in]}, {@code B [out, r]}, adding
 * <pre>
 *   y += s * (drop(x) A^T) B^T                    forward
 *   dB += s * dy^T u,   u = drop(x) A^T           backward, with g = dy B:
 *   dA += s * g^T drop(x)
 *   dx += drop'(s * g A)                           (the same mask and 1 / (1 - p) as forward)
 * </pre>
 * B·A is never formed: every product has the rank {@code r} on one side, so each costs
 * {@code rows * r * (in or out)} multiply-adds, all through {@link Gemm}. Forward keeps {@code s * u}
 * ({@code rows * r} floats) for backward; the dropout mask is a pure function of a seed and the element
 * index, regenerated in backward instead of stored.
 *
 * <p>Names follow PEFT ({@code base_model.model.MODULE.lora_A.weight}), so the pair saves as an adapter
 * PEFT and llama.cpp load.
 */
public final class LoraWeights {
    public final String module;
    public final int in, out, rank;
    public final float scale, dropout;
    public final Param a, b;

    /** What forward keeps for backward: {@code s * drop(x) A^T} and the dropout mask's seed. */
    public static final class Saved {
        final int rows;
        final float[] su;
        final long maskSeed;

        Saved(int rows, float[] su, long maskSeed) {
            this.rows = rows;
            this.su = su;
            this.maskSeed = maskSeed;
        }

        public int rows() { return rows; }
    }

    public LoraWeights(String module, Param a, Param b, double scale, double dropout) {
        long[] as = a.shape(), bs = b.shape();
        if (as.length != 2 || bs.length != 2 || as[0] != bs[1] || as[0] < 1)
            throw new IllegalArgumentException("LoRA " + module + ": A " + a + " and B " + b + " are not [r, in] and [out, r]");
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException("LoRA " + module + ": scale must be a finite number > 0, got " + scale);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA " + module + ": dropout must be in [0, 1), got " + dropout);
        this.module = module;
        this.a = a;
        this.b = b;
        this.rank = Math.toIntExact(as[0]);
        this.in = Math.toIntExact(as[1]);
        this.out = Math.toIntExact(bs[0]);
        this.scale = (float) scale;
        this.dropout = (float) dropout;
    }

    /**
     * A fresh pair as PEFT initialises it: A from {@code torch.nn.init.kaiming_uniform_(A, a=sqrt(5))},
     * i.e. uniform in {@code ±gain * sqrt(3 / fan_in)} with {@code gain = sqrt(2 / (1 + a^2))}, which is
     * {@code ±1 / sqrt(in)}; B zero, so the adapted layer starts equal to the base layer. The values come
     * from {@code seed} and the module name, so they do not depend on the order modules are created in.
     */
    public static LoraWeights create(String module, int in, int out, LoraConfig cfg, long seed) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("LoRA " + module + ": layer shape [" + out + ", " + in + "] is empty");
        int r = cfg.r();
        double a = Math.sqrt(5), gain = Math.sqrt(2 / (1 + a * a)), bound = gain * Math.sqrt(3.0 / in);
        float[] av = new float[Math.multiplyExact(r, in)];
        SplittableRandom rnd = new SplittableRandom(mix(seed, module));
        for (int i = 0; i < av.length; i++) av[i] = (float) ((2 * rnd.nextDouble() - 1) * bound);
        Param pa = new Param(peftName(module, "A"), new long[] {r, in}, av);
        Param pb = new Param(peftName(module, "B"), new long[] {out, r}, new float[Math.multiplyExact(out, r)]);
        return new LoraWeights(module, pa, pb, cfg.scale(), cfg.dropout());
    }

    /** PEFT's tensor name: {@code base_model.model.MODULE.lora_A.weight} ({@code which} = "A" or "B"). */
    public static String peftName(String module, String which) {
        return "base_model.model." + module + ".lora_" + which + ".weight";
    }

    /** A dropout seed for one module in one micro-batch of one step: masks differ everywhere, repeat exactly on a rerun. */
    public static long maskSeed(long runSeed, long step, int microBatch, String module) {
        return mix(runSeed + step * 0x9E3779B97F4A7C15L + microBatch * 0xBF58476D1CE4E5B9L, module);
    }

    // ---------------------------------------------------------------------------------------------

    /** Adds the adapter's {@code s * drop(x) A^T B^T} into {@code y [rows, out]}; {@code x} is {@code [rows, in]}. */
    public Saved forward(Parallel par, float[] x, int rows, float[] y, long maskSeed) {
        check(x, rows, in, "x");
        check(y, rows, out, "y");
        float[] xd = dropped(par, x, rows, maskSeed);
        float[] su = new float[rows * rank];
        // u = xd A^T, as dx = dy W with W = A^T [in, r]
        Gemm.dyW(par, transpose(a.value, rank, in), in, rank, xd, rows, su, false);
        for (int i = 0; i < su.length; i++) su[i] *= scale;
        // y += (s u) B^T, as dx = dy W with W = B^T [r, out]
        Gemm.dyW(par, transpose(b.value, out, rank), rank, out, su, rows, y, true);
        return new Saved(rows, su, maskSeed);
    }

    /**
     * Accumulates {@code dA}, {@code dB} into {@code a.grad}, {@code b.grad} and adds the adapter's part of
     * the input gradient into {@code dx} (skipped when null), for the {@code x} forward saw and the
     * output gradient {@code dy [rows, out]}.
     */
    public void backward(Parallel par, Saved saved, float[] x, float[] dy, float[] dx) {
        int rows = saved.rows;
        check(x, rows, in, "x");
        check(dy, rows, out, "dy");
        if (dx != null) check(dx, rows, in, "dx");
        // dB += dy^T (s u)
        Gemm.dyTx(par, dy, saved.su, rows, out, rank, b.grad, true);
        // g = dy B, then s g
        float[] sg = new float[rows * rank];
        Gemm.dyW(par, b.value, out, rank, dy, rows, sg, false);
        for (int i = 0; i < sg.length; i++) sg[i] *= scale;
        float[] xd = dropped(par, x, rows, saved.maskSeed);
        // dA += (s g)^T drop(x)
        Gemm.dyTx(par, sg, xd, rows, rank, in, a.grad, true);
        if (dx == null) return;
        if (dropout == 0) {
            Gemm.dyW(par, a.value, rank, in, sg, rows, dx, true);
        } else {
            // dx += mask * (s g A) / (1 - p): through a buffer, the product must be masked before it is added
            float[] t = scratch(1, rows * in);
            Gemm.dyW(par, a.value, rank, in, sg, rows, t, false);
            Dropout.addMasked(par, t, dx, rows * in, dropout, saved.maskSeed);
        }
    }

    /** {@code x} itself without dropout, else a masked, rescaled copy in this thread's scratch buffer. */
    private float[] dropped(Parallel par, float[] x, int rows, long maskSeed) {
        if (dropout == 0) return x;
        float[] xd = scratch(0, rows * in);
        Dropout.apply(par, x, xd, rows * in, dropout, maskSeed);
        return xd;
    }

    /** The merged update {@code s * B A [out, in]} (for merging into W, and for checks). */
    public float[] delta(Parallel par) {
        float[] sb = b.value.clone();
        for (int i = 0; i < sb.length; i++) sb[i] *= scale;
        float[] d = new float[Math.multiplyExact(out, in)];
        Gemm.dyW(par, a.value, rank, in, sb, out, d, false);
        return d;
    }

    /**
     * The exact split of a pair on a fused projection (Phi-3's {@code qkv_proj}: {@code rows = {q, kv, kv}})
     * into one pair per part: A is shared, so each part gets a copy of it, and B's rows are sliced. Each
     * part's output equals the fused output's rows.
     */
    public List<LoraWeights> split(List<String> modules, int... rows) {
        if (modules.size() != rows.length) throw new IllegalArgumentException("LoRA split of " + module + ": " + modules.size() + " names for " + rows.length + " parts");
        long total = 0;
        for (int n : rows) {
            if (n < 1) throw new IllegalArgumentException("LoRA split of " + module + ": empty part");
            total += n;
        }
        if (total != out) throw new IllegalArgumentException("LoRA split of " + module + ": parts of " + java.util.Arrays.toString(rows) + " rows do not add up to " + out);
        List<LoraWeights> parts = new ArrayList<>();
        int first = 0;
        for (int i = 0; i < rows.length; i++) {
            String m = modules.get(i);
            Param pa = new Param(peftName(m, "A"), new long[] {rank, in}, a.value.clone());
            float[] bv = java.util.Arrays.copyOfRange(b.value, first * rank, (first + rows[i]) * rank);
            Param pb = new Param(peftName(m, "B"), new long[] {rows[i], rank}, bv);
            parts.add(new LoraWeights(m, pa, pb, scale, dropout));
            first += rows[i];
        }
        return parts;
    }

    // ---------------------------------------------------------------------------------------------

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][]);

    private static float[] scratch(int which, int n) {
        float[][] s = SCRATCH.get();
        if (s[which] == null || s[which].length < n) s[which] = new float[n];
        return s[which];
    }

    /** {@code m [rows, cols]} transposed into this thread's scratch buffer 2 (valid until the next call). */
    private static float[] transpose(float[] m, int rows, int cols) {
        float[] t = scratch(2, rows * cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }

    private void check(float[] a, int rows, int cols, String what) {
        if (rows < 0 || (long) rows * cols > a.length)
            throw new IllegalArgumentException("LoRA " + module + ": " + what + " holds " + a.length + " values, needs " + rows + " x " + cols);
    }

    /** SplitMix64 of a seed and a name: independent streams per module, same on every run. */
    static long mix(long seed, String name) {
        long z = seed + 0x9E3779B97F4A7C15L * (name.hashCode() + 0x632BE59BD9B4E019L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
