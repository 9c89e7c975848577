package jllm.train;

import jllm.model.Grads;
import jllm.model.Model;
import jllm.model.Positions;
import jllm.model.Weights;
import jllm.tensor.Backend;
import jllm.tensor.Buf;

/**
 * The loss of a batch and its gradient: forward with a record, the fused LM head + cross-entropy,
 * backward. Cross-entropy is summed and divided by the number of target tokens given (for gradient
 * accumulation, the targets of every micro-batch of the step), so micro-batches of different
 * lengths accumulate to exactly the gradient of the whole batch.
 */
public final class Gradients {
    private Gradients() { }

    /** A gradient buffer for every weight of the model (full fine-tuning). */
    public static Grads allWeights(Model m) {
        Backend be = m.backend();
        Grads g = new Grads();
        for (Weights.Entry e : m.weights.params) {
            long n = 1;
            for (long d : e.shape()) n *= d;
            g.put(e.key(), be.alloc(Math.toIntExact(n)));
        }
        return g;
    }

    /**
     * Runs one micro-batch: adds the gradient of {@code sum(loss) / targets} to {@code g} and returns
     * the summed loss over its target tokens ({@code labels} entries that are not
     * {@link Positions#IGNORE}).
     */
    public static double accumulate(Model m, int[] tokens, Positions p, int[] labels, int targets, Grads g, boolean checkpointing) {
        if (targets <= 0) throw new IllegalArgumentException("no target tokens: every label is ignored");
        Model.Record r = m.trainForward(tokens, p, checkpointing);
        double sum = m.headLoss(r, labels, 1f / targets, g);
        m.backward(r, g);
        return sum;
    }

    /** Number of labels that count. */
    public static int targets(int[] labels) {
        int n = 0;
        for (int l : labels) if (l != Positions.IGNORE) n++;
        return n;
    }

    /** The host copy of a gradient buffer. */
    public static float[] download(Backend be, Buf b) {
        float[] out = new float[b.size()];
        be.download(b, 0, out, 0, out.length);
        return out;
    }
}
