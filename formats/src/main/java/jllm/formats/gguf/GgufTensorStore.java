package jllm.formats.gguf;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.GgmlType;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;

/**
 * The tensors of a GGUF file under their GGUF names, as views over the mapping (quantized types
 * included), with shapes in row-major order ({@code ne} reversed: an {@code [out, in]} weight).
 */
public final class GgufTensorStore implements TensorStore {
    private final GgufFile file;
    private final Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();

    public GgufTensorStore(GgufFile file) {
        this.file = file;
        for (GgufTensorInfo t : file.tensors()) byName.put(t.name(), t);
    }

    public GgufFile file() { return file; }

    @Override public String source() { return file.source(); }

    @Override
    public java.util.List<java.nio.file.Path> files() {
        try {
            java.nio.file.Path p = java.nio.file.Path.of(file.source());
            return java.nio.file.Files.exists(p) ? java.util.List.of(p) : java.util.List.of();
        } catch (java.nio.file.InvalidPathException e) {
            return java.util.List.of();
        }
    }

    @Override public Set<String> names() { return byName.keySet(); }

    private GgufTensorInfo get(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) throw missing(name);
        return t;
    }

    public static long[] shape(GgufTensorInfo t) {
        long[] s = new long[t.dims().length];
        for (int i = 0; i < s.length; i++) s[i] = t.dims()[s.length - 1 - i];
        return s;
    }

    public GgmlType type(String name) {
        GgufTensorInfo t = get(name);
        try {
            return GgmlType.fromId(t.ggmlType());
        } catch (IllegalArgumentException e) {
            throw new FormatException(source() + ": tensor '" + name + "': " + e.getMessage());
        }
    }

    @Override
    public Info info(String name) {
        return new Info(name, tensor(name).dtype(), shape(get(name)));
    }

    @Override
    public Tensor tensor(String name) {
        GgufTensorInfo t = get(name);
        try {
            return Tensors.of(type(name), t.data(), shape(t));
        } catch (IllegalArgumentException e) {
            throw new FormatException(source() + ": tensor '" + name + "': " + e.getMessage());
        }
    }

    @Override
    public long[] longs(String name) {
        throw new FormatException(source() + ": integer tensors are not read from GGUF files");
    }

    @Override
    public void close() { file.close(); }
}
