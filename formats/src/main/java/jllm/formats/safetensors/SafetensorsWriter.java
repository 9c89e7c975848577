package jllm.formats.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import jllm.formats.io.OutputFile;
import jllm.tensor.DType;
import jllm.tensor.Shapes;

/**
 * Writes safetensors files through {@link OutputFile} (atomically, never over an input or, without
 * overwrite, an existing file). Tensor bytes may be produced while writing, one tensor at a time, so
 * a model larger than memory can be written.
 */
public final class SafetensorsWriter {
    private record Item(DType dtype, long[] shape, long byteSize, Function<Arena, MemorySegment> bytes) {}

    private final Map<String, Item> items = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String k, String v) { metadata.put(k, v); return this; }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment bytes) {
        return add(name, dtype, shape, bytes.byteSize(), () -> bytes);
    }

    /** A tensor whose bytes are produced only while writing ({@code byteSize} of them). */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, long byteSize, Supplier<MemorySegment> bytes) {
        return add(name, dtype, shape, byteSize, arena -> bytes.get());
    }

    /** As above, the producer's memory allocated in {@code arena}, which is closed once the tensor is written. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, long byteSize, Function<Arena, MemorySegment> bytes) {
        if (Shapes.numel(shape) * dtype.bytes != byteSize)
            throw new IllegalArgumentException(name + ": " + dtype + Shapes.str(shape) + " does not match " + byteSize + " bytes");
        if (items.containsKey(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        items.put(name, new Item(dtype, shape.clone(), byteSize, bytes));
        return this;
    }

    public SafetensorsWriter addF32(String name, float[] data, long... shape) {
        MemorySegment s = MemorySegment.ofArray(new byte[data.length * 4]);
        MemorySegment.copy(data, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, data.length);
        return add(name, DType.F32, shape, s);
    }

    public SafetensorsWriter addI64(String name, long[] data, long... shape) {
        MemorySegment s = MemorySegment.ofArray(new byte[data.length * 8]);
        MemorySegment.copy(data, 0, s, ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, data.length);
        return add(name, DType.I64, shape, s);
    }

    /** Writes a new file; an existing {@code target} is refused (see {@link OutputFile}). */
    public void write(Path target) { write(target, false, List.of()); }

    public Path write(Path target, boolean overwrite, Collection<Path> inputs) {
        return OutputFile.write(target, overwrite, inputs, (OutputFile.StreamBody) this::write);
    }

    /**
     * Writes the file's bytes to a stream (e.g. the body of an {@link OutputFile} write); lazily added
     * tensors are produced here, one at a time.
     */
    public void write(OutputStream raw) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode header = om.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long off = 0;
        for (var e : items.entrySet()) {
            Item it = e.getValue();
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", it.dtype.name());
            ArrayNode sh = t.putArray("shape");
            for (long d : it.shape) sh.add(d);
            ArrayNode o = t.putArray("data_offsets");
            o.add(off);
            off += it.byteSize;
            o.add(off);
        }
        byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (hb.length + 7) & ~7; // keep the data section 8-byte aligned, padded with spaces
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(hb, 0, h, 0, hb.length);
        OutputStream out = new BufferedOutputStream(raw, 1 << 20);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(h);
        byte[] buf = new byte[1 << 20];
        for (var e : items.entrySet()) {
            Item it = e.getValue();
            try (Arena arena = Arena.ofShared()) {
                MemorySegment seg = it.bytes.apply(arena);
                if (seg.byteSize() != it.byteSize)
                    throw new IllegalStateException(e.getKey() + ": produced " + seg.byteSize() + " bytes, declared " + it.byteSize);
                for (long p = 0; p < seg.byteSize(); p += buf.length) {
                    int n = (int) Math.min(buf.length, seg.byteSize() - p);
                    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, p, buf, 0, n);
                    out.write(buf, 0, n);
                }
            }
        }
        out.flush();
    }
}
