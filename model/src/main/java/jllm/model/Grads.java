package jllm.model;

import java.util.IdentityHashMap;
import java.util.Map;
import jllm.tensor.Buf;

/**
 * Which weights are being trained and where their gradients go: weight (a {@link jllm.tensor.Tensor}
 * or a vector {@link Buf} of {@link Weights}, by identity) to a gradient buffer of the same size.
 * A weight that is not here is frozen: the backward computes no gradient for it, only the input
 * gradients that flow through it. Gradients accumulate, so tied weights and micro-batches sum.
 */
public final class Grads {
    private final Map<Object, Buf> map = new IdentityHashMap<>();

    public void put(Object weight, Buf grad) { map.put(weight, grad); }

    /** The gradient buffer of {@code weight}, or null when it is frozen (or null itself). */
    public Buf of(Object weight) { return weight == null ? null : map.get(weight); }

    public Map<Object, Buf> all() { return map; }
}
