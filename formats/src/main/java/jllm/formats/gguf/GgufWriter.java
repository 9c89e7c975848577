package jllm.formats.gguf;

import jllm.tensor.GgmlType;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import jllm.formats.io.OutputFile;

/**
 * Writes GGUF version 3 files as llama.cpp's reader expects them: metadata in insertion order,
 * tensor infos with ggml-order dims, each tensor's offset the running sum of the padded sizes before
 * it, the data section and every tensor padded to {@code general.alignment}. Written through
 * {@link OutputFile}, so an interrupted write never leaves a half file or replaces a user's file.
 */
public final class GgufWriter {
    private record Value(GgufValueType type, GgufValueType elem, Object v) {}

    private record TensorEntry(String name, long[] ne, int type, long size, Function<Arena, MemorySegment> bytes) {}

    private final Map<String, Value> kv = new LinkedHashMap<>();
    private final List<TensorEntry> tensors = new ArrayList<>();
    private final Map<String, Boolean> tensorNames = new LinkedHashMap<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private GgufWriter put(String key, GgufValueType t, GgufValueType elem, Object v) {
        if (kv.containsKey(key)) throw new IllegalArgumentException("duplicate metadata key " + key);
        kv.put(key, new Value(t, elem, v));
        return this;
    }

    public GgufWriter string(String key, String v) { return put(key, GgufValueType.STRING, null, v); }
    public GgufWriter u32(String key, long v) { return put(key, GgufValueType.UINT32, null, (int) v); }
    public GgufWriter i32(String key, int v) { return put(key, GgufValueType.INT32, null, v); }
    public GgufWriter u64(String key, long v) { return put(key, GgufValueType.UINT64, null, v); }
    public GgufWriter f32(String key, float v) { return put(key, GgufValueType.FLOAT32, null, v); }
    public GgufWriter bool(String key, boolean v) { return put(key, GgufValueType.BOOL, null, v); }
    public GgufWriter strings(String key, String[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.STRING, v.clone()); }
    public GgufWriter floats(String key, float[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.FLOAT32, v.clone()); }
    public GgufWriter ints(String key, int[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.INT32, v.clone()); }

    /** A value of any GGUF type as {@link GgufFile} decodes it (used to copy metadata between files). */
    public GgufWriter raw(String key, GgufValueType type, GgufValueType elem, Object v) {
        if (type == GgufValueType.ARRAY && elem == null) throw new IllegalArgumentException(key + ": array without element type");
        return put(key, type, elem, v);
    }

    public boolean has(String key) { return kv.containsKey(key); }

    public boolean hasTensor(String name) { return tensorNames.containsKey(name); }

    public GgufWriter alignment(int a) {
        if (a <= 0 || Integer.bitCount(a) != 1) throw new IllegalArgumentException("alignment must be a power of two");
        alignment = a;
        return u32("general.alignment", a);
    }

    /**
     * Adds a tensor given in row-major {@code shape} (Hugging Face order, e.g. {@code [out, in]});
     * GGUF stores the reverse (ne[0] fastest).
     */
    public GgufWriter tensor(String name, int ggmlType, long[] shape, MemorySegment bytes) {
        return tensor(name, ggmlType, shape, bytes.byteSize(), () -> bytes);
    }

    /**
     * As {@link #tensor(String, int, long[], MemorySegment)}, with the bytes produced only while
     * writing (one tensor in memory at a time when converting large models).
     */
    public GgufWriter tensor(String name, int ggmlType, long[] shape, long byteSize, java.util.function.Supplier<MemorySegment> bytes) {
        return tensor(name, ggmlType, shape, byteSize, arena -> bytes.get());
    }

    /**
     * As above, with memory the producer allocates for the bytes in {@code arena}, which is closed as soon
     * as the tensor is written: converting a model holds one tensor's memory at a time, not whatever the
     * garbage collector has not yet reclaimed.
     */
    public GgufWriter tensor(String name, int ggmlType, long[] shape, long byteSize, Function<Arena, MemorySegment> bytes) {
        if (name.getBytes(StandardCharsets.UTF_8).length >= 64) throw new IllegalArgumentException("tensor name longer than 63 bytes: " + name);
        if (tensorNames.put(name, true) != null) throw new IllegalArgumentException("duplicate tensor " + name);
        if (shape.length == 0 || shape.length > 4) throw new IllegalArgumentException(name + ": GGUF tensors have 1..4 dims");
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        GgmlType t = GgmlType.byId(ggmlType);
        if (t == null) throw new IllegalArgumentException(name + ": unknown ggml type " + ggmlType);
        int bv = t.blockSize, bb = t.blockBytes;
        if (shape[shape.length - 1] % bv != 0) throw new IllegalArgumentException(name + ": row length " + shape[shape.length - 1] + " is not a multiple of the block size " + bv);
        if (n / bv * bb != byteSize) throw new IllegalArgumentException(name + ": " + byteSize + " bytes, expected " + n / bv * bb);
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
        tensors.add(new TensorEntry(name, ne, ggmlType, byteSize, bytes));
        return this;
    }

    private long padded(long size) { return (size + alignment - 1) / alignment * alignment; }

    /** Writes a new file; an existing {@code target} is refused (see {@link OutputFile}). */
    public void write(Path target) { write(target, false, List.of()); }

    /**
     * Writes the file through {@link OutputFile}: atomically, never over one of {@code inputs}, an
     * existing target only with {@code overwrite}. Tensor bytes are produced one tensor at a time.
     */
    public Path write(Path target, boolean overwrite, Collection<Path> inputs) {
        return OutputFile.write(target, overwrite, inputs, (OutputFile.StreamBody) raw -> {
            Out out = new Out(new java.io.BufferedOutputStream(raw, 1 << 20));
            out.i32(0x46554747);
            out.i32(3);
            out.i64(tensors.size());
            out.i64(kv.size());
            for (var e : kv.entrySet()) {
                out.str(e.getKey());
                Value v = e.getValue();
                out.i32(v.type.id);
                if (v.type == GgufValueType.ARRAY) {
                    out.i32(v.elem.id);
                    array(out, v.elem, v.v);
                } else {
                    scalar(out, v.type, v.v);
                }
            }
            long offset = 0;
            for (TensorEntry t : tensors) {
                out.str(t.name);
                out.i32(t.ne.length);
                for (long d : t.ne) out.i64(d);
                out.i32(t.type);
                out.i64(offset);
                offset += padded(t.size);
            }
            if (!tensors.isEmpty()) out.pad(alignment);
            byte[] buf = new byte[1 << 20];
            for (TensorEntry t : tensors) {
                // shared: producers fill their tensors from several threads
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment seg = t.bytes.apply(arena);
                    if (seg.byteSize() != t.size) throw new IllegalStateException(t.name + ": produced " + seg.byteSize() + " bytes, declared " + t.size);
                    for (long p = 0; p < seg.byteSize(); p += buf.length) {
                        int n = (int) Math.min(buf.length, seg.byteSize() - p);
                        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, p, buf, 0, n);
                        out.write(buf, 0, n);
                    }
                }
                out.pad(alignment);
            }
            out.flush();
        });
    }

    private static void scalar(Out out, GgufValueType t, Object v) throws IOException {
        switch (t) {
            case STRING -> out.str((String) v);
            case UINT8, INT8 -> out.write(((Number) v).intValue() & 0xff);
            case UINT16, INT16 -> { int x = ((Number) v).intValue(); out.write(x & 0xff); out.write((x >>> 8) & 0xff); }
            case UINT32, INT32 -> out.i32(((Number) v).intValue());
            case UINT64, INT64 -> out.i64(((Number) v).longValue());
            case FLOAT32 -> out.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case BOOL -> out.write((Boolean) v ? 1 : 0);
            default -> throw new IllegalStateException("unsupported scalar " + t);
        }
    }

    /** Arrays as GgufFile decodes them: primitive arrays, String[], boolean[]. */
    private static void array(Out out, GgufValueType elem, Object a) throws IOException {
        int n = java.lang.reflect.Array.getLength(a);
        out.i64(n);
        for (int i = 0; i < n; i++) scalar(out, elem, java.lang.reflect.Array.get(a, i));
    }

    /** Little-endian primitives with a byte count for padding. */
    private static final class Out extends java.io.FilterOutputStream {
        long count;
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Out(OutputStream o) { super(o); }

        @Override public void write(int x) throws IOException { out.write(x); count++; }

        @Override public void write(byte[] a, int off, int len) throws IOException { out.write(a, off, len); count += len; }

        void i32(int v) throws IOException { b.clear(); b.putInt(v); write(b.array(), 0, 4); }

        void i64(long v) throws IOException { b.clear(); b.putLong(v); write(b.array(), 0, 8); }

        void str(String s) throws IOException {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i64(u.length);
            write(u, 0, u.length);
        }

        void pad(int alignment) throws IOException {
            while (count % alignment != 0) write(0);
        }
    }
}
