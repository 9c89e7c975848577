package jllm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jllm.model.Grads;
import jllm.model.Model;
import jllm.model.Weights;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.HeapBuf;
import jllm.tensor.HeapF32Tensor;
import jllm.tensor.Tensor;

/**
 * Makes weights trainable for full fine-tuning: each selected matrix is replaced by an fp32 copy the
 * optimiser updates in place ({@link HeapF32Tensor} over the {@link Param}'s values), each selected
 * norm weight or bias is trained where it is; every one gets its gradient registered in a
 * {@link Grads}. Pieces of tensors transformers keeps fused (Phi-3's qkv, MoE experts) are separate
 * parameters named {@code name[expert][rows from:to]}; {@link HfTensors} puts them back together.
 */
public final class FullFineTuning {
    private FullFineTuning() { }

    /** Trainable parameters for the weights whose transformers name {@code include} accepts; their gradients go to {@code g}. */
    public static List<Param> trainable(Model m, Grads g, Predicate<String> include) {
        Backend be = m.backend();
        List<Param> out = new ArrayList<>();
        for (Weights.Entry e : List.copyOf(m.weights.params)) {
            if (!include.test(e.origin().name())) continue;
            Param p;
            Object key;
            if (e.key() instanceof Tensor t) {
                float[] v = t.toFloatArray();
                HeapF32Tensor h = new HeapF32Tensor(v, t.shape());
                m.weights.replace(t, h);
                p = new Param(label(e.origin(), t.shape()), t.shape(), v);
                key = h;
            } else if (e.key() instanceof HeapBuf b) {
                p = new Param(label(e.origin(), e.shape()), e.shape(), b.array());
                key = b;
            } else {
                throw new UnsupportedOperationException("full fine-tuning of " + e.origin().name() + " needs host-visible weights (CPU backend)");
            }
            Buf grad = be.wrap(p.grad);
            g.put(key, grad);
            out.add(p);
        }
        return out;
    }

    static String label(Weights.Origin o, long[] shape) {
        if (o.expert() < 0 && o.offset() == 0 && !o.transposed()) return o.name();
        StringBuilder sb = new StringBuilder(o.name());
        if (o.expert() >= 0) sb.append('[').append(o.expert()).append(']');
        sb.append(o.transposed() ? "[cols " : "[rows ").append(o.offset()).append(':').append(o.offset() + shape[0]).append(']');
        return sb.toString();
    }
}
