package jllm.train.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jllm.model.Weights;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.CpuBackend;
import jllm.tensor.Gemm;
import jllm.tensor.HeapBuf;
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
public final class LoraWeights implements Weights.Adapter {
    public final String module;
    public final int in, out, rank;
    public final float scale, dropout;
    public final Param a, b;
    /** The dropout mask seed of the adapter seam's calls ({@link #setStep}). */
    private long stepSeed;

    /** What forward keeps for backward: {@code s * drop(x) A^T}, the dropout mask's seed and rate. */
    public static final class Saved {
        final int rows;
        final float[] su;
        final long maskSeed;
        final float p;

        Saved(int rows, float[] su, long maskSeed, float p) {
            this.rows = rows;
            this.su = su;
            this.maskSeed = maskSeed;
            this.p = p;
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
        return forward(par, x, rows, y, maskSeed, dropout, 0, out);
    }

    /**
     * Accumulates {@code dA}, {@code dB} into {@code a.grad}, {@code b.grad} and adds the adapter's part of
     * the input gradient into {@code dx} (skipped when null), for the {@code x} forward saw and the
     * output gradient {@code dy [rows, out]}.
     */
    public void backward(Parallel par, Saved saved, float[] x, float[] dy, float[] dx) {
        backward(par, saved, x, dy, dx, 0, out);
    }

    /** {@code s * drop(x) A^T} (the part of forward every row range shares). */
    private Saved project(Parallel par, float[] x, int rows, long maskSeed, float p) {
        check(x, rows, in, "x");
        float[] xd = dropped(par, x, rows, maskSeed, p);
        float[] su = new float[rows * rank];
        // u = xd A^T: r outputs per token, x read in place
        Gemm.xWt(par, a.value, rank, in, xd, rows, su, false);
        for (int i = 0; i < su.length; i++) su[i] *= scale;
        return new Saved(rows, su, maskSeed, p);
    }

    /** Output rows {@code [first, first + count)} of the adapter (a part of a fused projection) added into {@code y [rows, count]}. */
    private Saved forward(Parallel par, float[] x, int rows, float[] y, long maskSeed, float p, int first, int count) {
        check(y, rows, count, "y");
        Saved s = project(par, x, rows, maskSeed, p);
        // y += (s u) B^T, as dx = dy W with W = B^T [r, count]
        Gemm.dyW(par, transpose(b.value, first, count, rank), rank, count, s.su, rows, y, true);
        return s;
    }

    /** Backward of {@link #forward} for output rows {@code [first, first + count)}; {@code dy} is {@code [rows, count]}. */
    private void backward(Parallel par, Saved saved, float[] x, float[] dy, float[] dx, int first, int count) {
        int rows = saved.rows;
        check(x, rows, in, "x");
        check(dy, rows, count, "dy");
        if (dx != null) check(dx, rows, in, "dx");
        boolean whole = first == 0 && count == out;
        // dB[first .. first + count) += dy^T (s u)
        if (whole) Gemm.dyTx(par, dy, saved.su, rows, count, rank, b.grad, true);
        else {
            float[] part = new float[count * rank];
            Gemm.dyTx(par, dy, saved.su, rows, count, rank, part, false);
            for (int i = 0; i < part.length; i++) b.grad[first * rank + i] += part[i];
        }
        // g = dy B = dy (B^T)^T, then s g
        float[] sg = new float[rows * rank];
        Gemm.xWt(par, transpose(b.value, first, count, rank), rank, count, dy, rows, sg, false);
        for (int i = 0; i < sg.length; i++) sg[i] *= scale;
        float[] xd = dropped(par, x, rows, saved.maskSeed, saved.p);
        // dA += (s g)^T drop(x)
        Gemm.dyTx(par, sg, xd, rows, rank, in, a.grad, true);
        if (dx == null) return;
        if (saved.p == 0) {
            Gemm.dyW(par, a.value, rank, in, sg, rows, dx, true);
        } else {
            // dx += mask * (s g A) / (1 - p): through a buffer, the product must be masked before it is added
            float[] t = scratch(1, rows * in);
            Gemm.dyW(par, a.value, rank, in, sg, rows, t, false);
            Dropout.addMasked(par, t, dx, rows * in, saved.p, saved.maskSeed);
        }
    }

    /** {@code x} itself without dropout, else a masked, rescaled copy in this thread's scratch buffer. */
    private float[] dropped(Parallel par, float[] x, int rows, long maskSeed, float p) {
        if (p == 0) return x;
        float[] xd = scratch(0, rows * in);
        Dropout.apply(par, x, xd, rows * in, p, maskSeed);
        return xd;
    }

    // ---------------------------------------------------------------------------------------------
    // The decoder's adapter seam (Weights.Linear.adapter)

    /** Sets the dropout mask for the next forward/backward pairs: one per run seed, optimizer step and micro-batch. */
    public void setStep(long runSeed, long step, int microBatch) {
        this.stepSeed = maskSeed(runSeed, step, microBatch, module);
    }

    /**
     * Backward recomputes {@code s * drop(x) A^T} from x (rows x in x r multiply-adds, about r / out of
     * the base layer's backward) instead of keeping state between the calls: the decoder may run a
     * layer's forward twice (checkpointing), and the mask is a function of {@link #setStep}'s seed.
     */
    @Override
    public void forward(Backend be, Buf x, Buf y, int rows, boolean training) {
        forward(parallel(be), HeapBuf.of(x), rows, HeapBuf.of(y), stepSeed, training ? dropout : 0, 0, out);
    }

    @Override
    public void backward(Backend be, Buf x, Buf dy, Buf dx, int rows) {
        Parallel par = parallel(be);
        float[] xa = HeapBuf.of(x);
        backward(par, project(par, xa, rows, stepSeed, dropout), xa, HeapBuf.of(dy), HeapBuf.of(dx), 0, out);
    }

    /**
     * The adapter of output rows {@code [first, first + count)}: one part of a fused projection the
     * decoder holds as row views (Phi-3's q, k and v of {@code qkv_proj}). The parts share A and B, so
     * their gradients add up to exactly those of PEFT's single pair on the fused layer.
     */
    public Weights.Adapter rows(int first, int count) {
        if (first < 0 || count < 1 || first + count > out)
            throw new IllegalArgumentException("LoRA " + module + ": rows [" + first + ", " + (first + count) + ") outside [0, " + out + ")");
        return new Weights.Adapter() {
            @Override
            public void forward(Backend be, Buf x, Buf y, int rows, boolean training) {
                LoraWeights.this.forward(parallel(be), HeapBuf.of(x), rows, HeapBuf.of(y), stepSeed, training ? dropout : 0, first, count);
            }

            @Override
            public void backward(Backend be, Buf x, Buf dy, Buf dx, int rows) {
                Parallel par = parallel(be);
                float[] xa = HeapBuf.of(x);
                LoraWeights.this.backward(par, project(par, xa, rows, stepSeed, dropout), xa, HeapBuf.of(dy), HeapBuf.of(dx), first, count);
            }
        };
    }

    private static Parallel parallel(Backend be) {
        return be instanceof CpuBackend c ? c.parallel() : Parallel.shared(be.threads());
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

    /** Rows {@code [first, first + rows)} of {@code m [*, cols]} transposed into this thread's scratch buffer 2 (valid until the next call). */
    private static float[] transpose(float[] m, int first, int rows, int cols) {
        float[] t = scratch(2, rows * cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = m[(first + r) * cols + c];
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
