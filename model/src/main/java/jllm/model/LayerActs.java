package jllm.model;

import jllm.tensor.Backend;
import jllm.tensor.Buf;

/**
 * The activations of one decoder layer: where the shared forward writes its intermediates, and, in
 * training, what the backward reads. Inference allocates one set for all layers with the buffers
 * whose contents are dead by the next step shared (norms and scales run in place); training keeps
 * every input a backward needs in its own buffer. Norm statistics (rstd, mean) are one float per
 * row; attention keeps only the log-sum-exp per row and head, never the probabilities.
 */
final class LayerActs {
    final int rows;
    /** Layer input and the residual after attention (training: norm backward and recomputation). */
    Buf xIn, xMid;
    Buf xnA, meanA, rstdA;
    Buf q, k, v;
    /** QK norm before RoPE (the same buffers as q/k when there is none or in inference); RoPE is applied in place on them. */
    Buf qn, kn, rstdQ, rstdK;
    /** Llama 4's weightless norm after RoPE (aliases as above). */
    Buf ql, kl, rstdQl, rstdKl;
    Buf att, lse;
    Buf o, on, meanPA, rstdPA;
    Buf xnF, meanF, rstdF;
    MlpActs mlp;
    MoeActs moe;
    Buf fn, meanPF, rstdPF;

    /** A dense MLP's gate and up projections, the activation product fed to down, and down's output. */
    static final class MlpActs {
        final Buf g, u, h, f;

        MlpActs(Backend be, int rows, int inter, int hidden, boolean gated, boolean training) {
            g = gated ? be.alloc(rows * inter) : null;
            u = be.alloc(rows * inter);
            h = training ? be.alloc(rows * inter) : gated ? g : u;
            f = be.alloc(rows * hidden);
        }
    }

    /** Routing of one MoE layer, the mixed output, and the shared expert's activations. */
    static final class MoeActs {
        final Buf routerLogits, probs, weights, out;
        final int[] chosen;
        final MlpActs shared;

        MoeActs(Backend be, int rows, int experts, int k, int hidden, int sharedInter, boolean gated, boolean training) {
            routerLogits = be.alloc(rows * experts);
            probs = be.alloc(rows * experts);
            weights = be.alloc(rows * k);
            chosen = new int[rows * k];
            out = be.alloc(rows * hidden);
            shared = sharedInter > 0 ? new MlpActs(be, rows, sharedInter, hidden, gated, training) : null;
        }
    }

    /**
     * Buffers for {@code rows} rows of layer {@code only} (null: any layer of the model, the shape of a
     * buffer set shared by all layers).
     */
    LayerActs(Backend be, Spec s, Spec.LayerSpec only, int rows, boolean training) {
        this.rows = rows;
        int H = s.hidden, qD = s.heads * s.headDim, kvD = s.kvHeads * s.headDim;
        Spec.LayerSpec[] layers = only == null ? s.layer : new Spec.LayerSpec[] {only};
        boolean anyRope = false, anyDense = false;
        int denseInter = 0;
        Spec.Moe moeSpec = null;
        for (Spec.LayerSpec l : layers) {
            anyRope |= l.rope() != null;
            switch (l.ffn()) {
                case Spec.Dense d -> { anyDense = true; denseInter = Math.max(denseInter, d.intermediate()); }
                case Spec.Moe m -> moeSpec = m;
            }
        }
        Spec.Names n = s.names;
        if (training) {
            xIn = be.alloc(rows * H);
            xMid = be.alloc(rows * H);
        }
        Buf xn = null;
        if (n.attnNorm != null) {
            xn = xnA = be.alloc(rows * H);
            if (training) { rstdA = be.alloc(rows); meanA = s.layerNorm ? be.alloc(rows) : null; }
        }
        q = be.alloc(rows * qD);
        k = be.alloc(rows * kvD);
        v = be.alloc(rows * kvD);
        qn = q;
        kn = k;
        boolean headNorm = s.qkNorm == Spec.QkNorm.PER_HEAD || s.qkNorm == Spec.QkNorm.L2_AFTER_ROPE;
        if (training && (s.qkNorm == Spec.QkNorm.PER_HEAD || s.qkNorm == Spec.QkNorm.WHOLE)) {
            qn = be.alloc(rows * qD);
            kn = be.alloc(rows * kvD);
            rstdQ = be.alloc(headNorm ? rows * s.heads : rows);
            rstdK = be.alloc(headNorm ? rows * s.kvHeads : rows);
        }
        ql = qn;
        kl = kn;
        if (training && s.qkNorm == Spec.QkNorm.L2_AFTER_ROPE && anyRope) {
            ql = be.alloc(rows * qD);
            kl = be.alloc(rows * kvD);
            rstdQl = be.alloc(rows * s.heads);
            rstdKl = be.alloc(rows * s.kvHeads);
        }
        att = be.alloc(rows * qD);
        if (training) lse = be.alloc(rows * s.heads);
        o = be.alloc(rows * H);
        on = o;
        if (n.postAttnNorm != null && training) {
            on = be.alloc(rows * H);
            rstdPA = be.alloc(rows);
            meanPA = s.layerNorm ? be.alloc(rows) : null;
        }
        if (n.ffnNorm != null) {
            xnF = training || xn == null ? be.alloc(rows * H) : xn;
            if (training) { rstdF = be.alloc(rows); meanF = s.layerNorm ? be.alloc(rows) : null; }
        }
        if (anyDense) mlp = new MlpActs(be, rows, denseInter, H, s.gated, training);
        if (moeSpec != null) moe = new MoeActs(be, rows, moeSpec.experts(), moeSpec.topK(), H, moeSpec.sharedIntermediate(), s.gated, training);
        if (n.postFfnNorm != null && training) {
            fn = be.alloc(rows * H);
            rstdPF = be.alloc(rows);
            meanPF = s.layerNorm ? be.alloc(rows) : null;
        }
    }
}
