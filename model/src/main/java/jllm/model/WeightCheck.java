package jllm.model;

import java.util.function.Consumer;
import jllm.formats.TensorStore;
import jllm.tensor.Tensor;

/** Scans float weights for NaN/Inf, which silently poison every output downstream. */
public final class WeightCheck {
    private WeightCheck() {}

    public static void warnNonFinite(TensorStore st, Consumer<String> warn) {
        if (warn == null) return;
        float[] buf = new float[1 << 16];
        for (String name : st.names()) {
            if (!st.info(name).dtype().floating) continue;
            Tensor t = st.tensor(name);
            long bad = 0;
            for (long off = 0; off < t.numel(); off += buf.length) {
                int n = (int) Math.min(buf.length, t.numel() - off);
                t.read(off, buf, 0, n);
                for (int i = 0; i < n; i++) if (!Float.isFinite(buf[i])) bad++;
            }
            if (bad > 0) warn.accept("warning: " + st.source() + ": tensor '" + name + "' has " + bad + " NaN/Inf values");
        }
    }
}
