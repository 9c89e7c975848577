package jllm.train.lora;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.QuantTensor;
import jllm.tensor.Quantizer;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;

/**
 * QLoRA's frozen base held in few bits: converts frozen weight matrices loaded as F32/F16/BF16 (or any
 * other type) into the ggml type {@code --base-type} names, with the repository's {@link Quantizer}
 * (llama.cpp's rounding rules), row by row over the threads. Training then decodes them on the fly
 * in the forward product and in {@code dX = dY W} ({@link jllm.tensor.Gemm#dyW}).
 *
 * <p>A matrix whose rows are not a whole number of the type's blocks (K-quants need multiples of 256
 * values) falls back to Q8_0 when its rows are a multiple of 32, as {@code jllm convert} does, and is
 * otherwise left as it is; the report lists such tensors.
 */
public final class BaseQuantization {
    /** The types {@code --base-type} accepts. */
    public static final List<GgmlType> TYPES = List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
            GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16);

    private BaseQuantization() { }

    /** What a conversion did: bytes of the converted matrices before and after, and the tensors that fell back. */
    public record Report(GgmlType type, int tensors, long bytesBefore, long bytesAfter, List<String> fallbacks) {
        public long saved() { return bytesBefore - bytesAfter; }

        /** One line for the user, e.g. {@code base weights: 84 matrices, 552.0 MiB -> 155.3 MiB as q4_0 (saved 396.7 MiB, 72%)}. */
        public String summary() {
            String s = String.format(Locale.ROOT, "base weights: %d matrices, %.1f MiB -> %.1f MiB as %s (saved %.1f MiB, %.0f%%)",
                    tensors, bytesBefore / 1048576.0, bytesAfter / 1048576.0, type.name().toLowerCase(Locale.ROOT),
                    saved() / 1048576.0, bytesBefore == 0 ? 0.0 : 100.0 * saved() / bytesBefore);
            return fallbacks.isEmpty() ? s : s + "; kept in other types (row length): " + String.join(", ", fallbacks);
        }
    }

    /** {@code q4_0}, {@code Q4_K}, ...: one of {@link #TYPES}, or an error listing them. */
    public static GgmlType parseType(String name) {
        for (GgmlType t : TYPES) if (t.name().equalsIgnoreCase(name.strip())) return t;
        List<String> valid = new ArrayList<>();
        for (GgmlType t : TYPES) valid.add(t.name().toLowerCase(Locale.ROOT));
        throw new IllegalArgumentException("unknown --base-type '" + name + "'; valid: " + String.join(", ", valid));
    }

    /** Converts every matrix of {@code weights} (name to tensor, in order); vectors pass through unchanged. */
    public static Report convert(Map<String, Tensor> weights, GgmlType type, Parallel par, Map<String, Tensor> out) {
        if (!TYPES.contains(type)) throw new IllegalArgumentException("cannot hold base weights as " + type);
        long before = 0, after = 0;
        int n = 0;
        List<String> fallbacks = new ArrayList<>();
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (var e : weights.entrySet()) {
            Tensor w = e.getValue();
            if (w.rank() != 2) { result.put(e.getKey(), w); continue; }
            Tensor q = convert(w, type, par);
            GgmlType got = typeOf(q);
            if (got != type) fallbacks.add(e.getKey() + " " + (got == null ? w.dtype().name() : got.name()).toLowerCase(Locale.ROOT));
            before += bytes(w);
            after += bytes(q);
            n++;
            result.put(e.getKey(), q);
        }
        out.putAll(result);
        return new Report(type, n, before, after, fallbacks);
    }

    /**
     * {@code w [rows, cols]} as {@code type} (or its fallback, see the class comment): each row decoded to
     * fp32 and quantized on its own, rows spread over {@code par}, so the bytes equal a one-thread
     * {@link Quantizer#quantize} of the same values.
     */
    public static Tensor convert(Tensor w, GgmlType type, Parallel par) {
        if (w.rank() != 2) throw new IllegalArgumentException("base quantization needs a matrix, got " + w);
        int rows = w.dim(0), cols = w.dim(1);
        GgmlType t = type;
        if (cols % t.blockSize != 0) {
            if (cols % GgmlType.Q8_0.blockSize != 0) return w;
            t = GgmlType.Q8_0;
        }
        if (typeOf(w) == t) return w;
        GgmlType target = t;
        long rowBytes = t.rowBytes(cols);
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, rowBytes * rows), 64).asSlice(0, rowBytes * rows);
        (par == null ? Parallel.shared(1) : par).forRange(rows, 16, (r0, r1) -> {
            float[] row = new float[cols];
            for (int r = r0; r < r1; r++) {
                w.read((long) r * cols, row, 0, cols);
                Quantizer.quantizeInto(target, row, 0, cols, seg, r * rowBytes);
            }
        });
        return Tensors.of(t, seg, rows, cols);
    }

    /** The ggml type a tensor is stored in, or null for types ggml does not name. */
    static GgmlType typeOf(Tensor w) {
        if (w instanceof QuantTensor q) return q.ggmlType();
        return switch (w.dtype()) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            default -> null;
        };
    }

    /** Bytes a tensor occupies as stored. */
    static long bytes(Tensor w) {
        GgmlType t = typeOf(w);
        return t != null ? t.bytes(w.shape()) : w.segment().byteSize();
    }
}
