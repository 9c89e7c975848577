package jllm.model;

import java.util.function.Consumer;
import jllm.formats.TensorStore;
import jllm.tensor.Tensor;

/**
 * Scans float weights for NaN/Inf, which silently poison every output downstream. Each format counts
 * from its stored bits ({@link Tensor#nonFinite}): a pass over the bytes of dense tensors, the block
 * scales alone of quantized ones, never a decode of every weight.
 */
public final class WeightCheck {
    private WeightCheck() {}

    public static void warnNonFinite(TensorStore st, Consumer<String> warn) {
        if (warn == null) return;
        for (String name : st.names()) {
            if (!st.info(name).dtype().floating) continue;
            Tensor t = st.tensor(name);
            long bad = t.nonFinite();
            if (bad > 0) warn.accept("warning: " + st.source() + ": tensor '" + name + "' has " + bad + " NaN/Inf values");
        }
    }
}
