package jllm.doctor.tokens;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jllm.doctor.ModelFiles;
import jllm.formats.FormatException;
import jllm.formats.gguf.GgufTensorInfo;
import jllm.formats.io.OutputFile;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.tensor.GgmlType;
import jllm.tensor.Quantizer;

/**
 * Writes a copy of a model with some rows of some matrices replaced (the untrained-token fix): the
 * same format, byte for byte the same file except those rows, so metadata, tensor order, other
 * tensors and the tokenizer stay exactly as shipped. A row is re-encoded in the tensor's own type
 * (F32, F16, BF16, or a GGUF block type, whose rows are whole blocks).
 *
 * <p>An HF directory becomes a new directory holding a copy of every file, with the shard(s) that
 * hold the patched tensors patched; a GGUF file becomes a new GGUF file.
 */
public final class TokenFix {
    /** Rows {@code rows} of tensor {@code tensor} (a name in the model's own file) all set to {@code value}. */
    public record Patch(String tensor, int[] rows, float[] value) {}

    private record Region(long offset, byte[] bytes) {}

    private TokenFix() {}

    /** Writes the patched copy; returns the files written. */
    public static List<Path> write(ModelFiles m, List<Patch> patches, Path out, boolean overwrite) {
        return m.gguf ? List.of(writeGguf(m, patches, out, overwrite)) : writeHf(m, patches, out, overwrite);
    }

    private static Path writeGguf(ModelFiles m, List<Patch> patches, Path out, boolean overwrite) {
        List<Region> regions = new ArrayList<>();
        for (Patch p : patches) {
            GgufTensorInfo t = m.ggufFile.tensor(p.tensor());
            if (t == null) throw new FormatException(m.path + ": no tensor '" + p.tensor() + "'");
            GgmlType type = GgmlType.fromId(t.ggmlType());
            long cols = t.dims()[0];
            regions.addAll(rows(type, m.ggufFile.dataOffset() + t.offset(), cols, p));
        }
        return copyPatched(m.path, out, overwrite, regions);
    }

    private static List<Path> writeHf(ModelFiles m, List<Patch> patches, Path out, boolean overwrite) {
        Path dir = OutputFile.directory(out, overwrite, List.of(m.path));
        Map<Path, List<Region>> byFile = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(m.path)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new FormatException(m.path + ": cannot list: " + OutputFile.describe(e), e);
        }
        List<Patch> todo = new ArrayList<>(patches);
        for (Path f : files) {
            if (!f.getFileName().toString().endsWith(".safetensors")) continue;
            SafetensorsFile sf = SafetensorsFile.open(f);
            long dataStart = dataStart(f);
            for (var it = todo.iterator(); it.hasNext(); ) {
                Patch p = it.next();
                SafetensorsFile.Entry e = sf.entries().get(p.tensor());
                if (e == null) continue;
                GgmlType type = switch (e.dtype()) {
                    case F32 -> GgmlType.F32;
                    case F16 -> GgmlType.F16;
                    case BF16 -> GgmlType.BF16;
                    default -> throw new FormatException(f + ": tensor '" + p.tensor() + "' has dtype " + e.dtype() + "; only F32/F16/BF16 rows can be rewritten");
                };
                byFile.computeIfAbsent(f, k -> new ArrayList<>()).addAll(rows(type, dataStart + e.begin(), e.shape()[e.shape().length - 1], p));
                it.remove();
            }
        }
        if (!todo.isEmpty()) throw new FormatException(m.path + ": no safetensors file holds '" + todo.getFirst().tensor() + "'");
        List<Path> written = new ArrayList<>();
        for (Path f : files) written.add(copyPatched(f, dir.resolve(f.getFileName()), overwrite, byFile.getOrDefault(f, List.of())));
        return written;
    }

    /** The file offset of a safetensors data section: 8 bytes of header length, then the header. */
    private static long dataStart(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) >= 0) { }
            return 8 + b.flip().getLong();
        } catch (IOException e) {
            throw new FormatException(f + ": cannot read: " + OutputFile.describe(e), e);
        }
    }

    private static List<Region> rows(GgmlType type, long tensorStart, long cols, Patch p) {
        if (p.value().length != cols) throw new IllegalArgumentException(p.tensor() + ": row value has " + p.value().length + " entries, rows have " + cols);
        long rowBytes = type.rowBytes(cols);
        MemorySegment enc = MemorySegment.ofArray(new byte[Math.toIntExact(rowBytes)]);
        Quantizer.quantizeInto(type, p.value(), 0, (int) cols, enc, 0);
        byte[] bytes = enc.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        List<Region> out = new ArrayList<>();
        for (int r : p.rows()) out.add(new Region(tensorStart + r * rowBytes, bytes));
        return out;
    }

    private static Path copyPatched(Path in, Path out, boolean overwrite, List<Region> regions) {
        return OutputFile.write(out, overwrite, List.of(in), (OutputFile.Body) ch -> {
            try (FileChannel src = FileChannel.open(in, StandardOpenOption.READ)) {
                long size = src.size();
                for (long pos = 0; pos < size; ) pos += src.transferTo(pos, size - pos, ch);
                for (Region r : regions) {
                    if (r.offset() + r.bytes().length > size) throw new IOException("row patch at " + r.offset() + " runs past the end of " + in);
                    ByteBuffer b = ByteBuffer.wrap(r.bytes());
                    for (long pos = r.offset(); b.hasRemaining(); ) pos += ch.write(b, pos);
                }
            }
        });
    }
}
