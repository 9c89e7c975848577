package jllm.doctor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import jllm.model.Model;
import jllm.model.Weights;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.DType;
import jllm.tensor.GgmlType;
import jllm.tensor.Precision;
import jllm.tensor.Quantizer;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;

/**
 * Makes a loaded model compute as a PyTorch model held in bf16 or fp16 does ({@code model.to(dtype)}
 * and an eager forward): every parameter rounded to the dtype, every op's output rounded to it, with
 * the usual fp32 sections (norm statistics, softmax, RoPE tables, matmul accumulation) where
 * transformers has them for that architecture ({@link jllm.model.Spec#numericsFor}). This is an
 * emulation for comparing precisions layer by layer; jllm itself runs and trains in fp32.
 */
public final class LowPrecision {
    private LowPrecision() {}

    /**
     * Rounds every weight of {@code m} to {@code p} in place (matrices re-stored in that dtype,
     * vectors rounded) and sets the architecture's numerics for {@code p}. The model's fp32 weights
     * are gone afterwards: pass a model loaded for this purpose.
     */
    public static Model hold(Model m, Precision p) {
        if (p == Precision.FP32) return m;
        Backend be = m.backend();
        Weights w = m.weights;
        Set<Object> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Weights.Entry e : List.copyOf(w.params)) {
            if (!done.add(e.key())) continue;
            if (e.key() instanceof Tensor t) {
                Tensor r = be.weight(rounded(t, p));
                done.add(r);
                w.replace(t, r);
            } else if (e.key() instanceof Buf b) {
                be.round(b, 0, b.size(), p);
            }
        }
        m.spec.numerics = m.spec.numericsFor(p);
        return m;
    }

    /** {@code t} stored in {@code p} (round to nearest even), row by row; a tensor already in p is kept. */
    static Tensor rounded(Tensor t, Precision p) {
        if ((p == Precision.BF16 && t.dtype() == DType.BF16) || (p == Precision.FP16 && t.dtype() == DType.F16)) return t;
        GgmlType type = p == Precision.BF16 ? GgmlType.BF16 : GgmlType.F16;
        long[] shape = t.shape();
        int cols = shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
        long rows = t.numel() / Math.max(1, cols);
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, type.bytes(shape)), 64).asSlice(0, type.bytes(shape));
        float[] row = new float[cols];
        for (long r = 0; r < rows; r++) {
            t.read(r * cols, row, 0, cols);
            Quantizer.quantizeInto(type, row, 0, cols, seg, r * type.rowBytes(cols));
        }
        return Tensors.of(type, seg, shape);
    }
}
