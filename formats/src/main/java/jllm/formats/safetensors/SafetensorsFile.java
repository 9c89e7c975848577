package jllm.formats.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.BF16Tensor;
import jllm.tensor.DType;
import jllm.tensor.F16Tensor;
import jllm.tensor.F32Tensor;
import jllm.tensor.Shapes;
import jllm.tensor.Tensor;

/**
 * A memory-mapped safetensors file: 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data.
 * Every header claim is checked against the file before a byte of data is touched.
 */
public final class SafetensorsFile implements TensorStore {
    /** Headers beyond this are refused (the format's own reference limit is 100 MB). */
    static final long MAX_HEADER = 100L << 20;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private final Path path;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        jllm.formats.io.InputFile.requireFile(path, null);
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            file = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read safetensors file: " + e.getMessage(), e);
        }
        return parse(path, file);
    }

    static SafetensorsFile parse(Path path, MemorySegment file) {
        long size = file.byteSize();
        if (size < 8) throw bad(path, "file is " + size + " bytes, too short for the 8-byte header length (truncated?)");
        long n = file.get(LE_LONG, 0);
        if (n < 2 || n > MAX_HEADER) throw bad(path, "header length " + Long.toUnsignedString(n) + " is not plausible (2.." + MAX_HEADER + ")");
        if (8 + n > size) throw bad(path, "header length " + n + " runs past the end of the " + size + "-byte file (truncated?)");
        byte[] hb = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(new String(hb, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw bad(path, "header is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");
        MemorySegment data = file.asSlice(8 + n);
        long dataSize = data.byteSize();
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw bad(path, "__metadata__ is not an object");
                v.properties().forEach(m -> meta.put(m.getKey(), m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString()));
                continue;
            }
            entries.put(name, entry(path, name, v, dataSize));
        }
        checkOverlaps(path, entries.values());
        return new SafetensorsFile(path, data, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(meta));
    }

    private static Entry entry(Path path, String name, JsonNode v, long dataSize) {
        if (!v.isObject()) throw bad(path, "tensor '" + name + "': entry is not an object");
        DType dtype = dtype(path, name, v.path("dtype").asText(""));
        JsonNode shapeNode = v.get("shape"), offs = v.get("data_offsets");
        if (shapeNode == null || !shapeNode.isArray()) throw bad(path, "tensor '" + name + "': missing shape");
        if (shapeNode.size() > 8) throw bad(path, "tensor '" + name + "': rank " + shapeNode.size() + " is not plausible");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0) throw bad(path, "tensor '" + name + "': bad dimension " + d);
            shape[i] = d.asLong();
        }
        if (offs == null || !offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong())
            throw bad(path, "tensor '" + name + "': data_offsets must be [begin, end]");
        long begin = offs.get(0).asLong(), end = offs.get(1).asLong();
        if (begin < 0 || end < begin) throw bad(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] are reversed or negative");
        if (end > dataSize) throw bad(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] lie outside the "
                + dataSize + " data bytes (truncated file?)");
        long need;
        try {
            need = Math.multiplyExact(Shapes.numel(shape), (long) dtype.bytes);
        } catch (ArithmeticException ex) {
            throw bad(path, "tensor '" + name + "': shape " + Shapes.str(shape) + " overflows");
        }
        if (need != end - begin) throw bad(path, "tensor '" + name + "': " + dtype + Shapes.str(shape) + " needs " + need
                + " bytes but data_offsets span " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkOverlaps(Path path, java.util.Collection<Entry> all) {
        List<Entry> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1), b = sorted.get(i);
            if (b.begin < a.end && b.end > b.begin)
                throw bad(path, "tensors '" + a.name + "' and '" + b.name + "' overlap in the data section");
        }
    }

    static DType dtype(Path path, String name, String s) {
        return switch (s) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "U16" -> DType.U16;
            case "I32" -> DType.I32;
            case "U32" -> DType.U32;
            case "I64" -> DType.I64;
            case "U64" -> DType.U64;
            case "BOOL" -> DType.BOOL;
            case "F8_E4M3" -> DType.F8_E4M3;
            case "F8_E5M2" -> DType.F8_E5M2;
            default -> throw bad(path, "tensor '" + name + "': unknown dtype '" + s + "'");
        };
    }

    private static FormatException bad(Path path, String msg) {
        return new FormatException(path + ": invalid safetensors: " + msg);
    }

    @Override public String source() { return path.toString(); }

    public Path path() { return path; }

    @Override public java.util.List<Path> files() { return java.util.List.of(path); }

    public Map<String, String> metadata() { return metadata; }

    public Map<String, Entry> entries() { return entries; }

    @Override public Set<String> names() { return entries.keySet(); }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw missing(name);
        return e;
    }

    @Override
    public Info info(String name) {
        Entry e = entry(name);
        return new Info(name, e.dtype, e.shape.clone());
    }

    public MemorySegment bytes(String name) {
        Entry e = entry(name);
        return data.asSlice(e.begin, e.end - e.begin);
    }

    @Override
    public Tensor tensor(String name) {
        Entry e = entry(name);
        MemorySegment s = bytes(name);
        return switch (e.dtype) {
            case F32 -> new F32Tensor(s, e.shape);
            case F16 -> new F16Tensor(s, e.shape);
            case BF16 -> new BF16Tensor(s, e.shape);
            default -> throw new FormatException(path + ": tensor '" + name + "' has dtype " + e.dtype
                    + ", expected a float type (F32, F16, BF16)");
        };
    }

    @Override
    public long[] longs(String name) {
        Entry e = entry(name);
        MemorySegment s = bytes(name);
        int n = Math.toIntExact(Shapes.numel(e.shape));
        long[] out = new long[n];
        // the layouts made once: withOrder builds a new layout object at every call
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        ValueLayout.OfLong i64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le);
        ValueLayout.OfInt i32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(le);
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le);
        for (int i = 0; i < n; i++) {
            out[i] = switch (e.dtype) {
                case I64, U64 -> s.get(i64, 8L * i);
                case I32 -> s.get(i32, 4L * i);
                case U32 -> Integer.toUnsignedLong(s.get(i32, 4L * i));
                case I16 -> s.get(i16, 2L * i);
                case U16 -> Short.toUnsignedInt(s.get(i16, 2L * i));
                case I8 -> s.get(ValueLayout.JAVA_BYTE, i);
                case U8, BOOL -> Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, i));
                default -> throw new FormatException(path + ": tensor '" + name + "' has dtype " + e.dtype + ", expected an integer type");
            };
        }
        return out;
    }
}
