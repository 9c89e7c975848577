package jllm.train.merge;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.TensorStore;
import jllm.model.Model;
import jllm.tensor.Buf;
import jllm.tensor.HeapF32Tensor;
import jllm.tensor.Tensor;
import jllm.train.HfTensors;

/** Named fp32 tensors held in memory: a trained model's weights in transformers' names, ready to write. */
public final class MemoryTensors implements TensorStore {
    private final String source;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    public MemoryTensors(String source) { this.source = source; }

    public MemoryTensors put(String name, Tensor t) {
        tensors.put(name, t);
        return this;
    }

    /**
     * Every weight of a model as transformers names and lays it out (fused tensors put back together,
     * rows back in transformers' order), read from the host: what a full fine-tune or a pretraining run saves.
     */
    public static MemoryTensors of(Model m, String source) {
        MemoryTensors out = new MemoryTensors(source);
        var be = m.backend();
        Map<String, HfTensors.Named> all = HfTensors.assemble(m.weights, key -> {
            if (key instanceof Tensor t) return t.toFloatArray();
            Buf b = (Buf) key;
            float[] v = new float[b.size()];
            be.download(b, 0, v, 0, v.length);
            return v;
        });
        for (HfTensors.Named n : all.values()) out.put(n.name(), new HeapF32Tensor(n.data(), n.shape()));
        return out;
    }

    @Override public String source() { return source; }

    @Override public Set<String> names() { return tensors.keySet(); }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw missing(name);
        return t;
    }

    @Override
    public long[] longs(String name) { throw new UnsupportedOperationException(name + ": no integer tensors here"); }
}
