package jllm.train.merge;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.HeapF32Tensor;
import jllm.tensor.Parallel;
import jllm.tensor.Tensor;
import jllm.train.Param;
import jllm.train.lora.LoraWeights;
import jllm.train.peft.LoraPair;
import jllm.train.peft.PeftAdapter;

/**
 * A base checkpoint's tensors with a LoRA adapter merged in: {@code W' = W + s B A} for each adapted
 * module, computed in fp32 ({@code W} widened from its stored type, the product in fp32 FMA chains)
 * and checked for overflow; every other tensor is the base's own, untouched. Tensors are merged
 * when asked for, one at a time, so writing a merged model never holds more than one merged matrix.
 * Modules trained whole ({@code modules_to_save}) replace the base's tensor.
 */
public final class MergedTensors implements TensorStore {
    private final TensorStore base;
    private final PeftAdapter adapter;
    private final Parallel par;
    private final Map<String, LoraPair> byWeight = new LinkedHashMap<>();
    private final Map<String, PeftAdapter.SavedTensor> saved = new LinkedHashMap<>();

    public MergedTensors(TensorStore base, PeftAdapter adapter, Parallel par) {
        this.base = base;
        this.adapter = adapter;
        this.par = par;
        for (LoraPair p : adapter.layers.values()) {
            String w = p.module() + ".weight";
            if (!base.has(w))
                throw new FormatException("the adapter's module " + p.module() + " has no weight " + w + " in " + base.source()
                        + "; was it trained on another model?");
            long[] s = base.info(w).shape();
            if (s.length != 2 || s[0] != p.out() || s[1] != p.in())
                throw new FormatException("the adapter's " + p.module() + " is [" + p.out() + ", " + p.in() + "] but " + w + " in " + base.source()
                        + " is " + java.util.Arrays.toString(s) + "; was it trained on another model?");
            byWeight.put(w, p);
        }
        for (PeftAdapter.SavedTensor t : adapter.saved.values()) {
            String name = base.has(t.name()) ? t.name() : t.name() + ".weight";
            if (!base.has(name)) throw new FormatException("the adapter saves " + t.name() + ", which " + base.source() + " does not have");
            if (!java.util.Arrays.equals(base.info(name).shape(), t.shape()))
                throw new FormatException("the adapter's " + t.name() + " has shape " + java.util.Arrays.toString(t.shape()) + ", the base's "
                        + java.util.Arrays.toString(base.info(name).shape()));
            saved.put(name, t);
        }
    }

    /** Whether {@code name} differs from the base (merged or replaced). */
    public boolean changed(String name) { return byWeight.containsKey(name) || saved.containsKey(name); }

    @Override public String source() { return base.source() + " + adapter"; }

    @Override public Set<String> names() { return base.names(); }

    @Override public Info info(String name) {
        Info i = base.info(name);
        return changed(name) ? new Info(name, jllm.tensor.DType.F32, i.shape()) : i;
    }

    @Override
    public Tensor tensor(String name) {
        PeftAdapter.SavedTensor s = saved.get(name);
        if (s != null) return new HeapF32Tensor(s.data().clone(), s.shape());
        LoraPair p = byWeight.get(name);
        Tensor w = base.tensor(name);
        if (p == null) return w;
        float[] v = w.toFloatArray();
        float[] d = delta(p);
        for (int i = 0; i < v.length; i++) {
            float x = v[i] + d[i];
            if (!Float.isFinite(x))
                throw new FormatException(name + ": merging the adapter gives " + x + " at element " + i + " (row " + i / p.in() + "); the adapter is broken");
            v[i] = x;
        }
        return new HeapF32Tensor(v, w.shape());
    }

    /** {@code s B A [out, in]} in fp32. */
    float[] delta(LoraPair p) {
        Param a = new Param(LoraWeights.peftName(p.module(), "A"), new long[] {p.r(), p.in()}, p.a());
        Param b = new Param(LoraWeights.peftName(p.module(), "B"), new long[] {p.out(), p.r()}, p.b());
        return new LoraWeights(p.module(), a, b, adapter.config.scale(), 0).delta(par);
    }

    @Override public long[] longs(String name) { return base.longs(name); }
}
