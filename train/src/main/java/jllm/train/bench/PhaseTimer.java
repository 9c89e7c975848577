package jllm.train.bench;

import java.util.function.Supplier;
import jllm.model.Weights;
import jllm.tensor.Activation;
import jllm.tensor.AttentionMask;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.KvCache;
import jllm.tensor.KvType;
import jllm.tensor.Tensor;

/**
 * A {@link Backend} that runs every call on another backend and adds its wall time (and, for matrix
 * products, its multiply-adds) to the phase of a training step it belongs to, for {@code jllm bench
 * train}'s breakdown. The phase follows the step's order: an embedding starts a forward pass, the
 * cross-entropy ends it (LM head), and forward-type calls after it are the checkpoint recomputation
 * of the backward. Nothing is changed: the calls, their arguments and order are the model's own
 * (the linear backward is issued as its two independent products so each is timed apart).
 */
public final class PhaseTimer implements Backend {
    /** Where a step's time goes. */
    public enum Phase {
        FWD_GEMM("forward GEMMs (base weights)"),
        FWD_LORA("forward LoRA"),
        FWD_ATTN("forward attention + RoPE"),
        FWD_OTHER("forward norms, element-wise, copies"),
        HEAD_FWD("LM head logits GEMM"),
        HEAD_CE("cross-entropy (softmax + gradient)"),
        HEAD_BWD("LM head dX GEMM (+ dW if trained)"),
        RE_GEMM("recompute GEMMs (checkpointing)"),
        RE_LORA("recompute LoRA"),
        RE_ATTN("recompute attention + RoPE"),
        RE_OTHER("recompute norms, element-wise, copies"),
        BWD_DX("backward dX GEMMs (dY W)"),
        BWD_DW("backward dW GEMMs (dY^T X, full fine-tuning)"),
        BWD_LORA("backward LoRA (dA, dB, dX)"),
        BWD_ATTN("backward attention + RoPE"),
        BWD_OTHER("backward norms, element-wise, copies, embedding"),
        UPDATE("clipping + optimizer"),
        HOST("host work between calls (allocation, scheduling)");

        public final String label;

        Phase(String label) { this.label = label; }

        public boolean gemm() { return this == FWD_GEMM || this == HEAD_FWD || this == HEAD_BWD || this == RE_GEMM || this == BWD_DX || this == BWD_DW; }
    }

    private final Backend be;
    private final Supplier<Tensor> lmHead;
    private final long[] nanos = new long[Phase.values().length];
    private final double[] macs = new double[Phase.values().length];
    private boolean backward;

    /** Times {@code be}; {@code lmHead} gives the model's current LM head matrix (full fine-tuning replaces it). */
    public PhaseTimer(Backend be, Supplier<Tensor> lmHead) {
        this.be = be;
        this.lmHead = lmHead;
    }

    public Backend inner() { return be; }

    public void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(macs, 0);
    }

    public double seconds(Phase p) { return nanos[p.ordinal()] / 1e9; }

    public double macs(Phase p) { return macs[p.ordinal()]; }

    /** Adds time measured elsewhere (the optimizer update, the host remainder). */
    public void add(Phase p, double seconds) { nanos[p.ordinal()] += (long) (seconds * 1e9); }

    private void add(Phase p, long t0, double m) {
        nanos[p.ordinal()] += System.nanoTime() - t0;
        macs[p.ordinal()] += m;
    }

    private Phase gemm() { return backward ? Phase.RE_GEMM : Phase.FWD_GEMM; }

    private Phase attn(boolean inverseRope) { return inverseRope ? Phase.BWD_ATTN : backward ? Phase.RE_ATTN : Phase.FWD_ATTN; }

    /** Element-wise work: in backward it is either recomputation or the backward proper; the op tells which. */
    private Phase other(boolean backwardOp) { return backwardOp ? Phase.BWD_OTHER : backward ? Phase.RE_OTHER : Phase.FWD_OTHER; }

    /** Wraps every adapter of {@code w}'s linear layers so their time counts as LoRA ({@code rank} for the multiply-add count). */
    public void wrapAdapters(Weights w, int rank) {
        for (Weights.Linear lin : w.linears()) {
            Weights.Adapter a = lin.adapter;
            if (a == null) continue;
            int in = lin.in(), out = lin.out();
            lin.adapter = new Weights.Adapter() {
                @Override
                public void forward(Backend b, Buf x, Buf y, int rows, boolean training) {
                    long t0 = System.nanoTime();
                    a.forward(b, x, y, rows, training);
                    add(backward ? Phase.RE_LORA : Phase.FWD_LORA, t0, (double) rows * rank * (in + out));
                }

                @Override
                public void backward(Backend b, Buf x, Buf dy, Buf dx, int rows) {
                    long t0 = System.nanoTime();
                    a.backward(b, x, dy, dx, rows);
                    add(Phase.BWD_LORA, t0, (double) rows * rank * (3.0 * in + 2.0 * out));
                }
            };
        }
    }

    // ---- timed calls ----------------------------------------------------------------------------

    @Override
    public void matmul(Tensor w, Buf x, Buf y, int rows, Buf bias) {
        long t0 = System.nanoTime();
        be.matmul(w, x, y, rows, bias);
        add(w == lmHead.get() ? Phase.HEAD_FWD : gemm(), t0, (double) rows * w.dim(0) * w.dim(1));
    }

    /** Timed as one call, so that a breakdown measures the fused job the backend runs (q/k/v, gate/up). */
    @Override
    public void matmuls(Tensor[] ws, Buf x, Buf[] ys, int rows, Buf[] biases) {
        long t0 = System.nanoTime();
        be.matmuls(ws, x, ys, rows, biases);
        double flops = 0;
        for (Tensor w : ws) flops += (double) rows * w.dim(0) * w.dim(1);
        add(gemm(), t0, flops);
    }

    @Override
    public void matmulBackward(Tensor w, Buf x, Buf dy, int rows, Buf dx, boolean accumulate, Buf dw, Buf db) {
        double m = (double) rows * w.dim(0) * w.dim(1);
        boolean head = w == lmHead.get();
        if (dx != null) {
            long t0 = System.nanoTime();
            be.matmulBackward(w, x, dy, rows, dx, accumulate, null, null);
            add(head ? Phase.HEAD_BWD : Phase.BWD_DX, t0, m);
        }
        if (dw != null || db != null) {
            long t0 = System.nanoTime();
            be.matmulBackward(w, x, dy, rows, null, accumulate, dw, db);
            add(head ? Phase.HEAD_BWD : Phase.BWD_DW, t0, dw != null ? m : 0);
        }
    }

    @Override
    public double crossEntropy(Buf logits, int rows, int vocab, int[] labels, int labelOff, float logitScale, float softcap, float dScale, Buf rowLoss) {
        long t0 = System.nanoTime();
        double s = be.crossEntropy(logits, rows, vocab, labels, labelOff, logitScale, softcap, dScale, rowLoss);
        add(Phase.HEAD_CE, t0, 0);
        backward = dScale != 0f;
        return s;
    }

    @Override
    public void embed(Tensor table, int[] ids, int rows, Buf out, float scale) {
        backward = false;
        long t0 = System.nanoTime();
        be.embed(table, ids, rows, out, scale);
        add(Phase.FWD_OTHER, t0, 0);
    }

    @Override
    public void embedBackward(Buf dy, int[] ids, int rows, int width, float scale, Buf dTable) {
        long t0 = System.nanoTime();
        be.embedBackward(dy, ids, rows, width, scale, dTable);
        add(Phase.BWD_OTHER, t0, 0);
    }

    @Override
    public void rope(Buf x, int rows, int heads, int headDim, int rotaryDim, Buf cos, Buf sin, boolean interleaved, boolean inverse) {
        long t0 = System.nanoTime();
        be.rope(x, rows, heads, headDim, rotaryDim, cos, sin, interleaved, inverse);
        add(attn(inverse), t0, 0);
    }

    @Override
    public void attention(Buf q, int rows, int[] pos, int[] keyBase, Buf k, Buf v, int heads, int kvHeads, int hd, float scale, float softcap,
                          AttentionMask mask, Buf out, Buf lse) {
        long t0 = System.nanoTime();
        be.attention(q, rows, pos, keyBase, k, v, heads, kvHeads, hd, scale, softcap, mask, out, lse);
        add(attn(false), t0, 0);
    }

    /** Storing keys and values in an inference cache counts as attention. */
    @Override
    public void kvStore(KvCache cache, int layer, Buf k, Buf v, int start, int rows) {
        long t0 = System.nanoTime();
        be.kvStore(cache, layer, k, v, start, rows);
        add(attn(false), t0, 0);
    }

    @Override
    public void attention(Buf q, int rows, int[] pos, KvCache cache, int layer, int heads, int hd, float scale, float softcap,
                          AttentionMask mask, Buf out) {
        long t0 = System.nanoTime();
        be.attention(q, rows, pos, cache, layer, heads, hd, scale, softcap, mask, out);
        add(attn(false), t0, 0);
    }

    @Override
    public void attentionBackward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dOut, int rows, int[] pos, int[] keyBase, int heads, int kvHeads,
                                  int hd, float scale, float softcap, AttentionMask mask, Buf dq, Buf dk, Buf dv) {
        long t0 = System.nanoTime();
        be.attentionBackward(q, k, v, out, lse, dOut, rows, pos, keyBase, heads, kvHeads, hd, scale, softcap, mask, dq, dk, dv);
        add(Phase.BWD_ATTN, t0, 0);
    }

    @Override
    public void rmsNorm(Buf x, Buf y, int rows, int n, Buf w, float eps, boolean onePlus, Buf rstd) {
        long t0 = System.nanoTime();
        be.rmsNorm(x, y, rows, n, w, eps, onePlus, rstd);
        add(other(false), t0, 0);
    }

    @Override
    public void rmsNormBackward(Buf x, Buf w, boolean onePlus, Buf rstd, Buf dy, int rows, int n, Buf dx, boolean accumulate, Buf dw) {
        long t0 = System.nanoTime();
        be.rmsNormBackward(x, w, onePlus, rstd, dy, rows, n, dx, accumulate, dw);
        add(other(true), t0, 0);
    }

    @Override
    public void layerNorm(Buf x, Buf y, int rows, int n, Buf w, Buf b, float eps, boolean onePlus, Buf mean, Buf rstd) {
        long t0 = System.nanoTime();
        be.layerNorm(x, y, rows, n, w, b, eps, onePlus, mean, rstd);
        add(other(false), t0, 0);
    }

    @Override
    public void layerNormBackward(Buf x, Buf w, boolean onePlus, Buf mean, Buf rstd, Buf dy, int rows, int n, Buf dx, boolean accumulate, Buf dw, Buf db) {
        long t0 = System.nanoTime();
        be.layerNormBackward(x, w, onePlus, mean, rstd, dy, rows, n, dx, accumulate, dw, db);
        add(other(true), t0, 0);
    }

    @Override
    public void gated(Activation act, Buf gate, Buf up, Buf out, int n) {
        long t0 = System.nanoTime();
        be.gated(act, gate, up, out, n);
        add(other(false), t0, 0);
    }

    @Override
    public void gatedBackward(Activation act, Buf gate, Buf up, Buf dy, Buf dGate, Buf dUp, int n) {
        long t0 = System.nanoTime();
        be.gatedBackward(act, gate, up, dy, dGate, dUp, n);
        add(other(true), t0, 0);
    }

    @Override
    public void activate(Activation act, Buf x, Buf y, int n) {
        long t0 = System.nanoTime();
        be.activate(act, x, y, n);
        add(other(false), t0, 0);
    }

    @Override
    public void activateBackward(Activation act, Buf x, Buf dy, Buf dx, int n) {
        long t0 = System.nanoTime();
        be.activateBackward(act, x, dy, dx, n);
        add(other(true), t0, 0);
    }

    @Override
    public void addScaled(Buf x, Buf y, float s, int n) {
        long t0 = System.nanoTime();
        be.addScaled(x, y, s, n);
        add(other(false), t0, 0);
    }

    @Override
    public void scale(Buf x, Buf y, float s, int n) {
        long t0 = System.nanoTime();
        be.scale(x, y, s, n);
        add(other(false), t0, 0);
    }

    @Override
    public void dropout(Buf x, Buf y, int n, float p, long seed) {
        long t0 = System.nanoTime();
        be.dropout(x, y, n, p, seed);
        add(other(false), t0, 0);
    }

    @Override
    public void scaleRows(Buf x, Buf f, int rows, int width) {
        long t0 = System.nanoTime();
        be.scaleRows(x, f, rows, width);
        add(other(false), t0, 0);
    }

    @Override
    public void softcap(Buf x, int n, float c) {
        long t0 = System.nanoTime();
        be.softcap(x, n, c);
        add(other(false), t0, 0);
    }

    @Override
    public void softcapBackward(Buf y, Buf dy, Buf dx, int n, float c) {
        long t0 = System.nanoTime();
        be.softcapBackward(y, dy, dx, n, c);
        add(other(true), t0, 0);
    }

    @Override
    public void copy(Buf src, int srcOff, Buf dst, int dstOff, int n) {
        long t0 = System.nanoTime();
        be.copy(src, srcOff, dst, dstOff, n);
        add(other(false), t0, 0);
    }

    @Override
    public void fill(Buf x, int off, int n, float value) {
        long t0 = System.nanoTime();
        be.fill(x, off, n, value);
        add(other(false), t0, 0);
    }

    @Override
    public void gatherRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst) {
        long t0 = System.nanoTime();
        be.gatherRows(src, rows, scaleIdx, scale, n, width, dst);
        add(other(false), t0, 0);
    }

    @Override
    public void gatherRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale) {
        long t0 = System.nanoTime();
        be.gatherRowsBackward(dDst, rows, scaleIdx, scale, src, n, width, dSrc, dScale);
        add(other(true), t0, 0);
    }

    @Override
    public void scatterAddRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst) {
        long t0 = System.nanoTime();
        be.scatterAddRows(src, rows, scaleIdx, scale, n, width, dst);
        add(other(false), t0, 0);
    }

    @Override
    public void scatterAddRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale) {
        long t0 = System.nanoTime();
        be.scatterAddRowsBackward(dDst, rows, scaleIdx, scale, src, n, width, dSrc, dScale);
        add(other(true), t0, 0);
    }

    @Override
    public void route(Buf logits, int rows, int experts, int k, boolean sigmoid, boolean renormalize, int[] chosen, Buf weights, Buf probs) {
        long t0 = System.nanoTime();
        be.route(logits, rows, experts, k, sigmoid, renormalize, chosen, weights, probs);
        add(other(false), t0, 0);
    }

    @Override
    public void routeBackward(Buf logits, Buf probs, int[] chosen, Buf weights, Buf dWeights, int rows, int experts, int k, boolean sigmoid,
                              boolean renormalize, Buf dLogits) {
        long t0 = System.nanoTime();
        be.routeBackward(logits, probs, chosen, weights, dWeights, rows, experts, k, sigmoid, renormalize, dLogits);
        add(other(true), t0, 0);
    }

    // ---- untimed: memory and set-up ---------------------------------------------------------------

    @Override public String name() { return be.name(); }

    @Override public int threads() { return be.threads(); }

    @Override public Buf alloc(int n) { return be.alloc(n); }

    @Override public Buf wrap(float[] host) { return be.wrap(host); }

    @Override public void upload(float[] src, int srcOff, Buf dst, int dstOff, int n) { be.upload(src, srcOff, dst, dstOff, n); }

    @Override public void download(Buf src, int srcOff, float[] dst, int dstOff, int n) { be.download(src, srcOff, dst, dstOff, n); }

    @Override public Tensor weight(Tensor w) { return be.weight(w); }

    @Override public KvCache kvCache(int layers, int kvHeads, int headDim, KvType type) { return be.kvCache(layers, kvHeads, headDim, type); }
}
