package jllm.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.DType;
import jllm.tensor.F32Tensor;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Quantizer;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;

/**
 * A checkpoint of random weights for a config (dense decoders), with every matrix in one ggml type
 * and norms in F32. Matrices are generated row by row straight into off-heap segments (a 1B model in
 * Q8_0 never exists as fp32), deterministically from the seed, the tensor name and the row.
 * Values are uniform with standard deviation {@code 1 / sqrt(cols)}, so activations keep a sane scale.
 */
public final class RandomWeights implements TensorStore {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    /**
     * Tensors already made, weakly: a model built from this store keeps its tensors (and asking twice,
     * as tied embeddings do, gives the same one), while a file writer drops each tensor once written,
     * so writing a checkpoint larger than memory holds one tensor at a time.
     */
    private final Map<String, java.lang.ref.WeakReference<Tensor>> made = new java.util.HashMap<>();
    /** The type of each matrix (vectors are F32). */
    private final java.util.function.BiFunction<String, long[], GgmlType> typeOf;
    private final String typeName;
    private final long seed;
    private final Parallel par;
    private final float normValue;

    public RandomWeights(Config c, GgmlType type, long seed, int threads) {
        this(c, (name, shape) -> type, type.toString(), seed, threads);
        if (!type.supported) throw new IllegalArgumentException("no tensors of type " + type);
    }

    /**
     * Random weights whose matrices each get their own type ({@code typeOf(name, shape)}), e.g. a
     * llama.cpp mixed recipe such as Q4_K_M; {@code typeName} names the mix in messages.
     */
    public RandomWeights(Config c, java.util.function.BiFunction<String, long[], GgmlType> typeOf, String typeName, long seed, int threads) {
        this.typeOf = typeOf;
        this.typeName = typeName;
        this.seed = seed;
        this.par = Parallel.shared(threads);
        Spec s = Architectures.forConfig(c).spec(c);
        this.normValue = s.normOnePlus ? 0f : 1f;
        Spec.Names n = s.names;
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
        shapes.put(n.embed, new long[] {s.vocab, s.hidden});
        if (!s.tiedEmbeddings) shapes.put(n.lmHead, new long[] {s.vocab, s.hidden});
        shapes.put(n.finalNorm + ".weight", new long[] {s.hidden});
        for (int i = 0; i < s.layers; i++) {
            String p = String.format(n.layer, i);
            if (!(s.layer[i].ffn() instanceof Spec.Dense d)) throw new IllegalArgumentException("random weights support dense feed-forward layers only");
            int inter = d.intermediate();
            shapes.put(p + n.q + ".weight", new long[] {q, s.hidden});
            shapes.put(p + n.k + ".weight", new long[] {kv, s.hidden});
            shapes.put(p + n.v + ".weight", new long[] {kv, s.hidden});
            shapes.put(p + n.o + ".weight", new long[] {s.hidden, q});
            if (s.qkvBias) {
                shapes.put(p + n.q + ".bias", new long[] {q});
                shapes.put(p + n.k + ".bias", new long[] {kv});
                shapes.put(p + n.v + ".bias", new long[] {kv});
            }
            if (s.oBias) shapes.put(p + n.o + ".bias", new long[] {s.hidden});
            switch (s.qkNorm) {
                case PER_HEAD -> { shapes.put(p + n.qNorm + ".weight", new long[] {s.headDim}); shapes.put(p + n.kNorm + ".weight", new long[] {s.headDim}); }
                case WHOLE -> { shapes.put(p + n.qNorm + ".weight", new long[] {q}); shapes.put(p + n.kNorm + ".weight", new long[] {kv}); }
                default -> { }
            }
            for (String norm : new String[] {n.attnNorm, n.postAttnNorm, n.ffnNorm, n.postFfnNorm})
                if (norm != null) shapes.put(p + norm + ".weight", new long[] {s.hidden});
            if (s.gated) shapes.put(p + n.gate + ".weight", new long[] {inter, s.hidden});
            shapes.put(p + n.up + ".weight", new long[] {inter, s.hidden});
            shapes.put(p + n.down + ".weight", new long[] {s.hidden, inter});
            if (s.mlpBias) {
                if (s.gated) shapes.put(p + n.gate + ".bias", new long[] {inter});
                shapes.put(p + n.up + ".bias", new long[] {inter});
                shapes.put(p + n.down + ".bias", new long[] {s.hidden});
            }
        }
    }

    /** A random model of {@code c}'s geometry on {@code be}. */
    public static Model model(Config c, GgmlType type, long seed, jllm.tensor.Backend be) {
        return ModelLoader.build(c, new RandomWeights(c, type, seed, be.threads()), be, null);
    }

    /** Bytes all tensors take (what a file of this checkpoint would hold, headers aside). */
    public long bytes() {
        long b = 0;
        for (var e : shapes.entrySet()) b += e.getValue().length == 1 ? 4 * e.getValue()[0] : type(e.getKey()).bytes(e.getValue());
        return b;
    }

    /** The stored type of a tensor: F32 for vectors, else the matrix type. */
    public GgmlType type(String name) {
        long[] shape = shape(name);
        if (shape.length == 1) return GgmlType.F32;
        GgmlType t = typeOf.apply(name, shape);
        if (!t.supported) throw new IllegalArgumentException("no tensors of type " + t);
        return t;
    }

    @Override public String source() { return "random " + typeName + " weights"; }

    @Override public Set<String> names() { return shapes.keySet(); }

    @Override
    public Info info(String name) {
        long[] shape = shape(name);
        return new Info(name, DType.valueOf(type(name).name()), shape);
    }

    private long[] shape(String name) {
        long[] s = shapes.get(name);
        if (s == null) throw missing(name);
        return s;
    }

    @Override
    public synchronized Tensor tensor(String name) {
        var ref = made.get(name);
        Tensor t = ref == null ? null : ref.get();
        if (t == null) {
            long[] shape = shape(name);
            t = shape.length == 1 ? vector(name, (int) shape[0]) : matrix(name, shape[0], shape[1], Arena.ofAuto());
            made.put(name, new java.lang.ref.WeakReference<>(t));
        }
        return t;
    }

    /** Made afresh in {@code arena} and not kept: for writing a checkpoint one tensor at a time. */
    @Override
    public Tensor tensor(String name, Arena arena) {
        long[] shape = shape(name);
        return shape.length == 1 ? vector(name, (int) shape[0]) : matrix(name, shape[0], shape[1], arena);
    }

    private Tensor vector(String name, int n) {
        float[] v = new float[n];
        if (name.endsWith(".bias")) fill(v, hash(name), 0.02f);
        else java.util.Arrays.fill(v, normValue);
        return F32Tensor.of(v, n);
    }

    private Tensor matrix(String name, long rows, long cols, Arena arena) {
        GgmlType type = type(name);
        long rb = type.rowBytes(cols);
        MemorySegment seg = arena.allocate(rows * rb, 64);
        long h = hash(name);
        float amp = (float) Math.sqrt(3.0 / cols);
        int c = Math.toIntExact(cols);
        par.forRange(Math.toIntExact(rows), 64, (r0, r1) -> {
            float[] row = new float[c];
            for (int r = r0; r < r1; r++) {
                fill(row, h + r * 0x9E3779B97F4A7C15L, amp);
                Quantizer.quantizeInto(type, row, 0, c, seg, r * rb);
            }
        });
        return Tensors.of(type, seg, rows, cols);
    }

    private long hash(String name) { return seed * 0x100000001B3L ^ name.hashCode() * 0xC2B2AE3D27D4EB4FL; }

    /** Uniform in [-amp, amp) from a xorshift stream: fast enough for billions of values. */
    private static void fill(float[] v, long state, float amp) {
        long x = state | 1;
        for (int i = 0; i < v.length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            v[i] = ((x >>> 40) * 0x1p-24f * 2f - 1f) * amp;
        }
    }

    @Override
    public long[] longs(String name) { throw new FormatException(source() + ": tensor '" + name + "' is not an integer tensor"); }

}
