package jllm.formats.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import jllm.formats.FormatException;
import jllm.tensor.DType;
import jllm.tensor.Shapes;

/** Writes safetensors files atomically (a temporary file beside the target, then a rename). */
public final class SafetensorsWriter {
    public record Item(DType dtype, long[] shape, MemorySegment bytes) {}

    /** A tensor whose bytes are made when the file reaches it (one at a time, so a large model is never all in memory). */
    private record Lazy(DType dtype, long[] shape, java.util.function.Supplier<MemorySegment> bytes) {}

    private final Map<String, Lazy> lazy = new LinkedHashMap<>();

    private final Map<String, Item> items = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String k, String v) { metadata.put(k, v); return this; }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment bytes) {
        if (Shapes.numel(shape) * dtype.bytes != bytes.byteSize())
            throw new IllegalArgumentException(name + ": " + dtype + Shapes.str(shape) + " does not match " + bytes.byteSize() + " bytes");
        if (lazy.containsKey(name) || items.put(name, new Item(dtype, shape.clone(), bytes)) != null) throw new IllegalArgumentException("duplicate tensor " + name);
        return this;
    }

    /** A tensor computed while writing: {@code bytes} is called once, in file order, and must give {@code numel * dtype.bytes} bytes. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, java.util.function.Supplier<MemorySegment> bytes) {
        if (items.containsKey(name) || lazy.put(name, new Lazy(dtype, shape.clone(), bytes)) != null) throw new IllegalArgumentException("duplicate tensor " + name);
        items.put(name, new Item(dtype, shape.clone(), null));
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

    public void write(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                write(out);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new FormatException(target + ": cannot write safetensors: " + e.getMessage(), e);
        } finally {
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    /** Writes the file's bytes to a stream (e.g. the body of a {@code jllm.formats.io.OutputFile} write). */
    public void write(OutputStream out) throws IOException {
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
            off += size(it);
            o.add(off);
        }
        byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (hb.length + 7) & ~7; // keep the data section 8-byte aligned, padded with spaces
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(hb, 0, h, 0, hb.length);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(h);
        byte[] buf = new byte[1 << 20];
        for (var e : items.entrySet()) {
            Item it = e.getValue();
            MemorySegment bytes = it.bytes != null ? it.bytes : lazy.get(e.getKey()).bytes().get();
            if (bytes.byteSize() != size(it))
                throw new IllegalStateException(e.getKey() + ": " + bytes.byteSize() + " bytes made for " + it.dtype + Shapes.str(it.shape));
            for (long p = 0; p < bytes.byteSize(); p += buf.length) {
                int n = (int) Math.min(buf.length, bytes.byteSize() - p);
                MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, p, buf, 0, n);
                out.write(buf, 0, n);
            }
        }
    }

    private static long size(Item it) { return it.bytes != null ? it.bytes.byteSize() : Shapes.numel(it.shape) * it.dtype.bytes; }
}
