package jllm.formats.gguf;

import jllm.formats.FormatException;
import jllm.tensor.GgmlType;

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF file (versions 2 and 3), memory-mapped read-only. Metadata values are decoded eagerly into
 * Java values: integers as Integer/Long (unsigned kept as their bit pattern), floats as Float/Double,
 * bool as Boolean, strings as String; arrays as primitive Java arrays (byte[] for u8/i8, boolean[],
 * short[], int[], long[], float[], double[]), String[], or Object[] for arrays of arrays. Tensor data
 * stays in the mapping and is handed out as {@link MemorySegment} slices.
 *
 * <p>Every structural problem (bad magic, truncation, counts that cannot fit in the file, unknown
 * types, offsets outside the data section) is reported as a {@link FormatException} naming the file.
 */
public final class GgufFile implements AutoCloseable {
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_DEPTH = 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String source;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final Map<String, GgufValueType> types = new HashMap<>();
    private final Map<String, GgufValueType> arrayTypes = new HashMap<>();
    private final List<GgufTensorInfo> tensors = new ArrayList<>();
    private final Map<String, GgufTensorInfo> tensorsByName = new HashMap<>();
    private final int alignment;
    private final long dataOffset;
    private long pos;

    private GgufFile(String source, Arena arena, MemorySegment file) {
        this.source = source;
        this.arena = arena;
        this.file = file;
        int magic = readI32("magic");
        if (magic != MAGIC) throw fail(String.format("not a GGUF file (magic 0x%08x, expected \"GGUF\")", magic));
        version = readI32("version");
        if (version == 1) throw fail("GGUF version 1 is not supported (only 2 and 3)");
        if (version != 2 && version != 3) {
            throw fail(Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? "big-endian GGUF files are not supported" : "unsupported GGUF version " + version);
        }
        long tensorCount = readI64("tensor count");
        long kvCount = readI64("metadata count");
        // Each KV takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 24.
        checkCount(kvCount, 13, "metadata count");
        checkCount(tensorCount, 24, "tensor count");
        for (long i = 0; i < kvCount; i++) {
            String key = readString("metadata key #" + i);
            if (metadata.containsKey(key)) throw fail("duplicate metadata key '" + key + "'");
            int typeId = readI32("type of '" + key + "'");
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw fail("unknown value type " + typeId + " for metadata key '" + key + "'");
            types.put(key, type);
            metadata.put(key, readValue(type, key, 0));
        }
        Object align = metadata.get("general.alignment");
        if (align == null) {
            alignment = DEFAULT_ALIGNMENT;
        } else {
            if (!(align instanceof Integer a) || a <= 0 || Integer.bitCount(a) != 1) {
                throw fail("general.alignment must be a u32 power of two, got " + align);
            }
            alignment = a;
        }
        long[][] dims = new long[(int) tensorCount][];
        String[] names = new String[(int) tensorCount];
        int[] ggmlTypes = new int[(int) tensorCount];
        long[] offsets = new long[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            names[i] = readString("tensor name #" + i);
            int nDims = readI32("dimension count of tensor '" + names[i] + "'");
            if (nDims < 0 || nDims > MAX_DIMS) throw fail("tensor '" + names[i] + "' has " + nDims + " dimensions (max " + MAX_DIMS + ")");
            dims[i] = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[i][d] = readI64("dimension of tensor '" + names[i] + "'");
                if (dims[i][d] < 0) throw fail("tensor '" + names[i] + "' has negative dimension " + dims[i][d]);
            }
            ggmlTypes[i] = readI32("type of tensor '" + names[i] + "'");
            offsets[i] = readI64("offset of tensor '" + names[i] + "'");
        }
        dataOffset = tensorCount == 0 ? pos : alignUp(pos, alignment);
        if (dataOffset > file.byteSize()) throw fail("truncated before the tensor data section");
        long dataSize = file.byteSize() - dataOffset;
        for (int i = 0; i < tensorCount; i++) {
            String name = names[i];
            if (tensorsByName.containsKey(name)) throw fail("duplicate tensor name '" + name + "'");
            long bytes = tensorBytes(name, dims[i], ggmlTypes[i]);
            long off = offsets[i];
            if (off < 0 || off % alignment != 0) throw fail("tensor '" + name + "' offset " + off + " is not a multiple of the alignment " + alignment);
            if (off > dataSize || bytes > dataSize - off) {
                throw fail("tensor '" + name + "' data [" + off + ", " + (off + bytes) + ") lies outside the data section (" + dataSize + " bytes)");
            }
            GgufTensorInfo t = new GgufTensorInfo(name, dims[i], ggmlTypes[i], off, file.asSlice(dataOffset + off, bytes));
            tensors.add(t);
            tensorsByName.put(name, t);
        }
        checkOverlaps();
    }

    /**
     * Two tensors sharing bytes would alias each other (writing one changes the other, and a hostile
     * file could make every tensor point at the same few bytes): refused as for safetensors.
     */
    private void checkOverlaps() {
        List<GgufTensorInfo> sorted = new ArrayList<>();
        for (GgufTensorInfo t : tensors) if (t.data().byteSize() > 0) sorted.add(t);
        sorted.sort(java.util.Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo a = sorted.get(i - 1), b = sorted.get(i);
            if (b.offset() < a.offset() + a.data().byteSize())
                throw fail("tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data section");
        }
    }

    /** Maps and parses a GGUF file; the mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) {
        jllm.formats.io.InputFile.requireFile(path, null);
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufFile(path.toString(), arena, seg);
        } catch (IOException e) {
            arena.close();
            throw new FormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Maps and parses a GGUF file whose mapping the garbage collector releases once nothing uses
     * it: for models, whose tensors are views into the mapping and live as long as the model does.
     */
    public static GgufFile openManaged(Path path) {
        jllm.formats.io.InputFile.requireFile(path, null);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new GgufFile(path.toString(), null, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto()));
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses GGUF bytes already in memory (tests, embedded files); the segment must outlive this object. */
    public static GgufFile of(String source, MemorySegment bytes) {
        return new GgufFile(source, null, bytes);
    }

    /** True when the file starts with the GGUF magic (cheap format sniffing). */
    public static boolean isGguf(Path path) {
        if (!java.nio.file.Files.isRegularFile(path)) return false;
        try (var in = java.nio.file.Files.newInputStream(path)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    public int version() { return version; }
    public int alignment() { return alignment; }
    public long dataOffset() { return dataOffset; }
    public String source() { return source; }
    public MemorySegment segment() { return file; }

    public Map<String, Object> metadata() { return Collections.unmodifiableMap(metadata); }
    public Set<String> keys() { return Collections.unmodifiableSet(metadata.keySet()); }
    public boolean has(String key) { return metadata.containsKey(key); }
    public Object get(String key) { return metadata.get(key); }
    public GgufValueType type(String key) { return types.get(key); }
    /** Element type of an array value, or null when the key is absent or not an array. */
    public GgufValueType arrayType(String key) { return arrayTypes.get(key); }

    public List<GgufTensorInfo> tensors() { return Collections.unmodifiableList(tensors); }
    public GgufTensorInfo tensor(String name) { return tensorsByName.get(name); }

    public String getString(String key, String dflt) {
        Object v = metadata.get(key);
        if (v == null) return dflt;
        if (v instanceof String s) return s;
        throw fail("metadata '" + key + "' is " + types.get(key) + ", expected a string");
    }

    /** Any integer-typed value as a long (u64 above Long.MAX_VALUE wraps; u32 is zero-extended). */
    public long getLong(String key, long dflt) {
        Object v = metadata.get(key);
        if (v == null) return dflt;
        GgufValueType t = types.get(key);
        return switch (v) {
            case Byte b -> t == GgufValueType.UINT8 ? (b & 0xFF) : b;
            case Short s -> t == GgufValueType.UINT16 ? (s & 0xFFFF) : s;
            case Integer i -> t == GgufValueType.UINT32 ? Integer.toUnsignedLong(i) : i;
            case Long l -> l;
            default -> throw fail("metadata '" + key + "' is " + t + ", expected an integer");
        };
    }

    public double getDouble(String key, double dflt) {
        Object v = metadata.get(key);
        if (v == null) return dflt;
        if (v instanceof Float f) return f;
        if (v instanceof Double d) return d;
        return getLong(key, 0);
    }

    public boolean getBool(String key, boolean dflt) {
        Object v = metadata.get(key);
        if (v == null) return dflt;
        if (v instanceof Boolean b) return b;
        throw fail("metadata '" + key + "' is " + types.get(key) + ", expected a bool");
    }

    public String[] getStringArray(String key) {
        Object v = metadata.get(key);
        if (v == null) return null;
        if (v instanceof String[] a) return a;
        throw fail("metadata '" + key + "' is not an array of strings");
    }

    public float[] getFloatArray(String key) {
        Object v = metadata.get(key);
        if (v == null) return null;
        if (v instanceof float[] a) return a;
        throw fail("metadata '" + key + "' is not an array of f32");
    }

    /** An array of 8-, 16- or 32-bit integers widened to int[] (unsigned types zero-extended). */
    public int[] getIntArray(String key) {
        Object v = metadata.get(key);
        if (v == null) return null;
        GgufValueType et = arrayTypes.get(key);
        return switch (v) {
            case int[] a -> a;
            case byte[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) r[i] = et == GgufValueType.UINT8 ? a[i] & 0xFF : a[i];
                yield r;
            }
            case short[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) r[i] = et == GgufValueType.UINT16 ? a[i] & 0xFFFF : a[i];
                yield r;
            }
            default -> throw fail("metadata '" + key + "' is not an array of integers");
        };
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }

    // ---- parsing ----

    private Object readValue(GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8, INT8 -> readBytes(1, key)[0];
            case UINT16, INT16 -> { need(2, key); short v = file.get(U16, pos); pos += 2; yield v; }
            case UINT32, INT32 -> readI32(key);
            case FLOAT32 -> { need(4, key); float v = file.get(F32, pos); pos += 4; yield v; }
            case BOOL -> readBytes(1, key)[0] != 0;
            case STRING -> readString(key);
            case UINT64, INT64 -> readI64(key);
            case FLOAT64 -> { need(8, key); double v = file.get(F64, pos); pos += 8; yield v; }
            case ARRAY -> readArray(key, depth);
        };
    }

    private Object readArray(String key, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) throw fail("metadata '" + key + "' nests arrays deeper than " + MAX_ARRAY_DEPTH);
        int typeId = readI32("array type of '" + key + "'");
        GgufValueType et = GgufValueType.byId(typeId);
        if (et == null) throw fail("unknown array element type " + typeId + " for metadata key '" + key + "'");
        if (depth == 0) arrayTypes.put(key, et);
        long n = readI64("array length of '" + key + "'");
        // Strings take at least their 8-byte length, arrays at least 12 bytes of header.
        int minSize = et == GgufValueType.STRING ? 8 : et == GgufValueType.ARRAY ? 12 : et.size;
        checkCount(n, minSize, "array length of '" + key + "'");
        int count = (int) n;
        switch (et) {
            case UINT8, INT8 -> { return readBytes(count, key); }
            case BOOL -> {
                byte[] b = readBytes(count, key);
                boolean[] r = new boolean[count];
                for (int i = 0; i < count; i++) r[i] = b[i] != 0;
                return r;
            }
            case UINT16, INT16 -> {
                short[] r = new short[count];
                MemorySegment.copy(file, U16, pos, r, 0, count);
                pos += 2L * count;
                return r;
            }
            case UINT32, INT32 -> {
                int[] r = new int[count];
                MemorySegment.copy(file, U32, pos, r, 0, count);
                pos += 4L * count;
                return r;
            }
            case FLOAT32 -> {
                float[] r = new float[count];
                MemorySegment.copy(file, F32, pos, r, 0, count);
                pos += 4L * count;
                return r;
            }
            case UINT64, INT64 -> {
                long[] r = new long[count];
                MemorySegment.copy(file, U64, pos, r, 0, count);
                pos += 8L * count;
                return r;
            }
            case FLOAT64 -> {
                double[] r = new double[count];
                MemorySegment.copy(file, F64, pos, r, 0, count);
                pos += 8L * count;
                return r;
            }
            case STRING -> {
                String[] r = new String[count];
                for (int i = 0; i < count; i++) r[i] = readString(key);
                return r;
            }
            case ARRAY -> {
                Object[] r = new Object[count];
                for (int i = 0; i < count; i++) r[i] = readArray(key, depth + 1);
                return r;
            }
        }
        throw new AssertionError(et);
    }

    private void checkCount(long n, int minElementSize, String what) {
        long remaining = file.byteSize() - pos;
        if (n < 0 || n > Integer.MAX_VALUE - 8 || n * (long) Math.max(1, minElementSize) > remaining) {
            throw fail(what + " " + Long.toUnsignedString(n) + " does not fit in the " + remaining + " bytes left");
        }
    }

    private void need(long n, String what) {
        if (n < 0 || pos + n > file.byteSize()) throw fail("truncated while reading " + what + " at offset " + pos);
    }

    private int readI32(String what) {
        need(4, what);
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long readI64(String what) {
        need(8, what);
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private byte[] readBytes(int n, String what) {
        need(n, what);
        byte[] b = new byte[n];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, b, 0, n);
        pos += n;
        return b;
    }

    private String readString(String what) {
        long len = readI64("length of " + what);
        if (len < 0 || len > file.byteSize() - pos) {
            throw fail("string length " + Long.toUnsignedString(len) + " of " + what + " runs past the end of the file");
        }
        if (len > Integer.MAX_VALUE - 8) throw fail("string of " + what + " is too long (" + len + " bytes)");
        return new String(readBytes((int) len, what), StandardCharsets.UTF_8);
    }

    private long tensorBytes(String name, long[] dims, int type) {
        GgmlType t = GgmlType.byId(type);
        if (t == null) throw fail("tensor '" + name + "' has unknown ggml type " + type);
        int bv = t.blockSize, bb = t.blockBytes;
        if (dims.length > 0 && dims[0] % bv != 0) {
            throw fail("tensor '" + name + "' first dimension " + dims[0] + " is not a multiple of the block size " + bv);
        }
        long n = 1;
        for (long d : dims) {
            if (d != 0 && n > Long.MAX_VALUE / d) throw fail("tensor '" + name + "' element count overflows");
            n *= d;
        }
        long blocks = n / bv;
        if (blocks > Long.MAX_VALUE / bb) throw fail("tensor '" + name + "' size overflows");
        return blocks * bb;
    }

    private static long alignUp(long x, int a) { return (x + a - 1) & -(long) a; }

    private FormatException fail(String msg) { return new FormatException(source + ": " + msg); }
}
