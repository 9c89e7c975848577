package jllm.model.gguf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorStore;
import jllm.model.Architectures;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.GgmlType;
import jllm.tensor.HeapF32Tensor;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;

/**
 * A GGUF model's tensors as the Hugging Face checkpoint it was converted from: transformers' names
 * and conventions, with llama.cpp's undone in the values (unlike {@link GgufModelLoader}, which
 * undoes them in the spec): Q/K rows of Llama-architecture files back in rotate-half order (whole
 * rows moved, so quantized rows stay as they are), Gemma norm gains stored as {@code 1 + w} back to
 * {@code w}. What merging an adapter into a GGUF base and writing it out again (HF layout, or GGUF
 * through {@link GgufConverter}) reads. Llama 3.1 RoPE factors stay in {@link #file()}.
 */
public final class GgufHfView implements TensorStore {
    private final GgufFile file;
    private final Config config;
    private final GgufModelLoader.MappedStore mapped;
    private final Map<String, TensorMap.Entry> entries = new HashMap<>();
    private final boolean permute, plusOne;
    private final int headDim;

    private GgufHfView(GgufFile file) {
        this.file = file;
        this.config = new Config(GgufConfig.toHf(file), file.source());
        Spec spec = Architectures.forConfig(config).spec(config);
        this.mapped = new GgufModelLoader.MappedStore(new GgufTensorStore(file), () -> spec);
        for (TensorMap.Entry e : TensorMap.entries(spec)) entries.put(e.hf(), e);
        this.permute = TensorMap.permutesQk(file.getString("general.architecture", ""));
        this.plusOne = spec.normOnePlus && !spec.layerNorm;
        this.headDim = spec.headDim;
    }

    public static GgufHfView open(Path path) { return new GgufHfView(GgufFile.open(path)); }

    /** The config.json the file's metadata describes. */
    public ObjectNode configJson() { return config.json().deepCopy(); }

    public GgufFile file() { return file; }

    @Override public String source() { return file.source(); }

    @Override public Set<String> names() { return mapped.names(); }

    @Override
    public Info info(String name) {
        Info i = mapped.info(name);
        return new Info(name, i.dtype(), i.shape());
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = mapped.tensor(name);
        TensorMap.Entry e = entries.get(name);
        if (e == null) return t;
        if (permute && (e.role() == TensorMap.Role.Q || e.role() == TensorMap.Role.K)) return unpermuted(t);
        if (plusOne && t.rank() == 1 && e.gguf().contains("norm")) {
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] -= 1f;
            return new HeapF32Tensor(v, t.shape());
        }
        return t;
    }

    /** Inverse of {@link GgufConverter#permuteRows}: pair-order row {@code h*d + 2i + b} goes back to {@code h*d + b*d/2 + i}. */
    private Tensor unpermuted(Tensor t) {
        long[] shape = t.shape();
        int rows = (int) shape[0];
        MemorySegment src = t.segment();
        long rb = src.byteSize() / rows;
        MemorySegment out = Arena.ofAuto().allocate(src.byteSize(), 64);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int h = r / headDim, j = r % headDim, which = j / half, i = j % half;
            MemorySegment.copy(src, (long) (h * headDim + 2 * i + which) * rb, out, r * rb, rb);
        }
        return Tensors.of(GgmlType.valueOf(t.dtype().name()), out, shape);
    }

    @Override public long[] longs(String name) { return mapped.longs(name); }

    @Override public void close() { file.close(); }
}
