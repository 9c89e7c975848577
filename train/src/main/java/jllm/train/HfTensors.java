package jllm.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import jllm.model.Weights;

/**
 * Per-weight values (gradients, trained weights) put back together as transformers' named
 * parameters: the pieces of a fused tensor (Phi-3's {@code qkv_proj}, an MoE layer's experts) are
 * placed at their {@link Weights.Origin}, transposed where transformers keeps the tensor
 * input-major (Llama 4's experts), rows put back in transformers' order where a GGUF file permuted
 * them (Q/K of Llama-architecture files).
 */
public final class HfTensors {
    private HfTensors() { }

    /** A named fp32 tensor. */
    public record Named(String name, long[] shape, float[] data) {}

    /**
     * Every parameter of {@code w} for which {@code values} returns data (null = skip), by
     * transformers name, in the order the weights were loaded.
     */
    public static Map<String, Named> assemble(Weights w, Function<Object, float[]> values) {
        Map<String, List<Weights.Entry>> byName = new LinkedHashMap<>();
        for (Weights.Entry e : w.params) byName.computeIfAbsent(e.origin().name(), k -> new ArrayList<>()).add(e);
        Map<String, Named> out = new LinkedHashMap<>();
        for (var group : byName.entrySet()) {
            List<Weights.Entry> parts = group.getValue();
            boolean any = false;
            for (Weights.Entry e : parts) any |= values.apply(e.key()) != null;
            if (!any) continue;
            long[] shape = fusedShape(parts);
            float[] data = new float[Math.toIntExact(numel(shape))];
            for (Weights.Entry e : parts) {
                float[] v = values.apply(e.key());
                if (v != null) place(e, v, shape, data);
            }
            out.put(group.getKey(), new Named(group.getKey(), shape, data));
        }
        return out;
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }

    /** The whole tensor's shape from its pieces: [rows, cols], [E, rows, cols] or, transposed, [E, cols, rows]. */
    private static long[] fusedShape(List<Weights.Entry> parts) {
        Weights.Entry first = parts.get(0);
        long[] s = first.shape();
        if (parts.size() == 1 && first.origin().expert() < 0 && first.origin().offset() == 0 && !first.origin().transposed()) return s;
        long rows = 0, cols = s[1];
        int experts = 0;
        for (Weights.Entry e : parts) {
            rows = Math.max(rows, e.origin().offset() + e.shape()[0]);
            experts = Math.max(experts, e.origin().expert() + 1);
        }
        long[] m = first.origin().transposed() ? new long[] {cols, rows} : new long[] {rows, cols};
        return experts == 0 ? m : new long[] {experts, m[0], m[1]};
    }

    private static void place(Weights.Entry e, float[] v, long[] shape, float[] data) {
        Weights.Origin o = e.origin();
        long[] s = e.shape();
        if (s.length == 1) {
            for (int i = 0; i < v.length; i++) data[o.hfRow(i)] = v[i];
            return;
        }
        int rows = (int) s[0], cols = (int) s[1];
        int mr = (int) shape[shape.length - 2], mc = (int) shape[shape.length - 1];
        long base = o.expert() < 0 ? 0 : (long) o.expert() * mr * mc;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                int hr = o.hfRow(r);
                long at = o.transposed() ? base + (long) c * mc + o.offset() + hr : base + (long) (o.offset() + hr) * mc + c;
                data[(int) at] = v[r * cols + c];
            }
    }
}
