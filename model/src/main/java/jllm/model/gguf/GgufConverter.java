package jllm.model.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufWriter;
import jllm.formats.io.OutputFile;
import jllm.model.Architecture;
import jllm.model.Architectures;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.BF16Tensor;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Quantizer;
import jllm.tensor.Tensor;

/**
 * Hugging Face checkpoint to GGUF the way llama.cpp's converter lays it out: llama.cpp tensor names
 * and metadata keys, Q/K rows permuted for Llama-architecture files, Gemma norm gains stored as
 * 1 + w, Llama 3.1 RoPE scaling as a {@code rope_freqs} tensor, longrope factors as tensors, experts
 * stacked. Vectors (norms, biases) stay F32; matrices get the requested type.
 */
public final class GgufConverter {
    /**
     * Target file types, as llama.cpp's {@code llama-quantize} names them: one type for every matrix
     * but the LM head (Q6_K in quantized files, see {@link #pick}), or a mixed recipe (Q4_K_M, Q5_K_M). A
     * file-level choice with llama.cpp's {@code general.file_type} number, not a second table of tensor
     * types: each names its base {@link GgmlType}, where everything about the type itself lives.
     */
    public enum FileType {
        F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16), Q8_0(7, GgmlType.Q8_0), Q4_0(2, GgmlType.Q4_0),
        Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1), Q4_K_M(15, GgmlType.Q4_K), Q5_K_M(17, GgmlType.Q5_K),
        Q6_K(18, GgmlType.Q6_K);

        /** llama.cpp's {@code general.file_type} number. */
        public final int id;
        public final GgmlType base;

        FileType(int id, GgmlType base) { this.id = id; this.base = base; }

        public static FileType parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown type '" + s + "' (supported: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k)");
            }
        }
    }

    private GgufConverter() {}

    /**
     * Writes metadata and tensors for {@code st} (HF names) into {@code w}. Extra metadata (tokenizer,
     * chat template) is the caller's.
     */
    public static void addModel(GgufWriter w, Config c, TensorStore st, FileType type, String name, Consumer<String> progress) {
        addModel(w, c, st, type, false, name, progress);
    }

    /** As above; {@code pure}: every matrix in {@code type} (llama-quantize's {@code --pure}), see {@link #pick}. */
    public static void addModel(GgufWriter w, Config c, TensorStore st, FileType type, boolean pure, String name, Consumer<String> progress) {
        Architecture arch = Architectures.forConfig(c);
        Spec s = arch.spec(c);
        String ga = GgufConfig.GGUF_ARCH.get(s.modelType);
        if (ga == null) throw new FormatException("converting " + s.modelType + " to GGUF is not supported (supported: " + GgufConfig.GGUF_ARCH.keySet() + ")");
        w.string("general.architecture", ga);
        w.string("general.type", "model");
        w.string("general.name", name);
        w.u32("general.quantization_version", 2);
        w.u32("general.file_type", type.id);
        w.alignment(32);
        metadata(w, c, s, ga);
        boolean permute = TensorMap.permutesQk(ga);
        boolean plusOne = s.normOnePlus && !s.layerNorm;
        var entries = TensorMap.entries(s);
        // Group stacked experts: one GGUF tensor per (layer, projection).
        java.util.Map<String, List<TensorMap.Entry>> stacks = new java.util.LinkedHashMap<>();
        int total = 0;
        for (TensorMap.Entry e : entries) {
            if (!st.has(e.hf())) {
                if (e.hf().equals(s.names.lmHead) && s.tiedEmbeddings) continue;
                throw st.missing(e.hf());
            }
            if (e.role() == TensorMap.Role.EXPERT) { stacks.computeIfAbsent(e.gguf(), k -> new ArrayList<>()).add(e); continue; }
            total++;
        }
        total += stacks.size();
        final int totalTensors = total;
        int[] done = {0};
        int nLayers = s.layers;
        boolean tied = !st.has(s.names.lmHead);
        int experts = experts(s);
        for (TensorMap.Entry e : entries) {
            if (e.role() == TensorMap.Role.EXPERT || !st.has(e.hf())) continue;
            // Only the shape now: the tensor itself is read (or, for random weights, made) while writing,
            // one at a time, so converting never holds the whole model in memory.
            TensorStore.Info info = st.info(e.hf());
            long[] shape = info.shape();
            boolean isNorm = shape.length == 1 && e.gguf().contains("norm");
            int rowsPerHead = s.headDim;
            GgmlType gt = pick(type, e.gguf(), shape, nLayers, tied, experts, pure);
            boolean qk = permute && (e.role() == TensorMap.Role.Q || e.role() == TensorMap.Role.K);
            w.tensor(e.gguf(), gt.id, shape, bytes(gt, shape), arena -> {
                Tensor t = st.tensor(e.hf(), arena);
                if (info.dtype().name().equals(gt.name()) && !(plusOne && isNorm)) {
                    // Already in the target type: copy (or move whole rows), never requantize.
                    progress.accept(String.format("[%d/%d] %s %s %s", ++done[0], totalTensors, e.gguf(), gt, java.util.Arrays.toString(shape)));
                    return qk ? permuteRowBytes(t.segment(), shape, rowsPerHead, arena) : t.segment();
                }
                float[] v = t.toFloatArray();
                if (permute && (e.role() == TensorMap.Role.Q || e.role() == TensorMap.Role.K)) v = permuteRows(v, shape, rowsPerHead);
                if (plusOne && isNorm) for (int i = 0; i < v.length; i++) v[i] += 1f;
                progress.accept(String.format("[%d/%d] %s %s %s", ++done[0], totalTensors, e.gguf(), gt, java.util.Arrays.toString(shape)));
                return encode(gt, v, shape, arena);
            });
        }
        for (var stack : stacks.entrySet()) {
            List<TensorMap.Entry> es = stack.getValue();
            long[] one = st.info(es.get(0).hf()).shape();
            long[] shape = {es.size(), one[0], one[1]};
            GgmlType gt = pick(type, stack.getKey(), new long[] {one[0], one[1]}, nLayers, tied, experts, pure);
            w.tensor(stack.getKey(), gt.id, shape, bytes(gt, shape), arena -> {
                int per = Math.toIntExact(one[0] * one[1]);
                float[] v = new float[Math.toIntExact((long) per * es.size())];
                for (TensorMap.Entry e : es) st.tensor(e.hf(), arena).read(0, v, e.expert() * per, per);
                progress.accept(String.format("[%d/%d] %s %s %s", ++done[0], totalTensors, stack.getKey(), gt, java.util.Arrays.toString(shape)));
                return encode(gt, v, shape, arena);
            });
        }
        ropeTensors(w, c, s);
    }

    private static long bytes(GgmlType t, long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n / t.blockSize * t.blockBytes;
    }

    /**
     * The type each matrix of {@code c}'s model gets in a file of type {@code ft}, by Hugging Face
     * name and shape: random weights made with it are exactly what {@code convert} would write.
     */
    public static java.util.function.BiFunction<String, long[], GgmlType> matrixTypes(Config c, FileType ft) {
        return matrixTypes(c, ft, false);
    }

    /** As above; {@code pure}: every matrix in {@code ft} (see {@link #pick}). */
    public static java.util.function.BiFunction<String, long[], GgmlType> matrixTypes(Config c, FileType ft, boolean pure) {
        Spec s = Architectures.forConfig(c).spec(c);
        java.util.Map<String, String> gguf = new java.util.HashMap<>();
        for (TensorMap.Entry e : TensorMap.entries(s)) gguf.put(e.hf(), e.gguf());
        int experts = experts(s);
        return (hf, shape) -> pick(ft, gguf.getOrDefault(hf, hf), shape, s.layers, s.tiedEmbeddings, experts, pure);
    }

    /**
     * The type of one tensor, as {@code llama-quantize} picks it (llama.cpp's {@code llama_tensor_get_type},
     * without an importance matrix): vectors and MoE routers F32; matrices the file type, except that in every
     * quantized file type but Q8_0 the LM head is Q6_K, and it is {@code token_embd} where the
     * embeddings are tied ({@code tied}: the file has no {@code output.weight}): a 1B Q4_0 file from
     * {@code llama-quantize} has a Q6_K {@code token_embd}. Q4_K_M and Q5_K_M also raise attn_v and
     * ffn_down of some layers to Q6_K (attn_qkv, Phi-3's fused projection, counts as attn_v). With 8
     * experts ({@code experts}, Mixtral) attn_v and attn_k are Q8_0 in every quantized type, and
     * Q4_K_M's attn_output Q5_K. Not taken over: the 70B-only Q5_K attn_v. A type whose block does
     * not divide the rows falls back as in llama.cpp (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0), and
     * to F16 where 32 does not divide them either (where llama-quantize stops with an error).
     * {@code pure} (llama-quantize's {@code --pure}) keeps every matrix at the file's type, fallback
     * aside: for comparing formats rather than for use.
     */
    static GgmlType pick(FileType ft, String gguf, long[] shape, int layers, boolean tied, int experts, boolean pure) {
        if (shape.length == 1 || router(gguf)) return GgmlType.F32;
        GgmlType t = ft.base;
        if (t.blockSize == 1) return t;
        if (pure) return fallback(t, shape);
        boolean mixed = ft == FileType.Q4_K_M || ft == FileType.Q5_K_M;
        int layer = layerOf(gguf);
        // llama.cpp's use_more_bits: first and last eighth of the layers, and every third in between
        boolean more = layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        if (gguf.equals("output.weight") || tied && gguf.equals("token_embd.weight")) {
            if (t != GgmlType.Q8_0) t = GgmlType.Q6_K;
        } else if (gguf.contains("attn_v.") || gguf.contains("attn_qkv.")) {
            if (mixed && more) t = GgmlType.Q6_K;
            if (experts == 8) t = GgmlType.Q8_0;
        } else if (gguf.contains("attn_k.")) {
            if (experts == 8) t = GgmlType.Q8_0;
        } else if (gguf.contains("ffn_down")) {
            if (mixed && more) t = GgmlType.Q6_K;
        } else if (gguf.contains("attn_output.")) {
            if (experts == 8 && ft == FileType.Q4_K_M) t = GgmlType.Q5_K;
        }
        return fallback(t, shape);
    }

    /** llama.cpp's tensor_type_fallback: a 32-value type of about the same size, then F16. */
    private static GgmlType fallback(GgmlType t, long[] shape) {
        long cols = shape[shape.length - 1];
        if (cols % t.blockSize != 0) t = t == GgmlType.Q4_K ? GgmlType.Q5_0 : t == GgmlType.Q5_K ? GgmlType.Q5_1 : GgmlType.Q8_0;
        if (cols % t.blockSize != 0) t = GgmlType.F16;
        return t;
    }

    /**
     * A MoE router ({@code ffn_gate_inp}): llama.cpp's converter writes it in fp32 and its quantizer
     * leaves it as it is, so {@link #pick} makes it F32 and {@code quantize} keeps its type.
     */
    static boolean router(String gguf) { return gguf.contains("ffn_gate_inp"); }

    /** N of a {@code blk.N.} name, 0 for other names (a file's names are not trusted to be well formed). */
    private static int layerOf(String gguf) {
        int end = gguf.indexOf('.', 4);
        if (!gguf.startsWith("blk.") || end < 0) return 0;
        try {
            return Integer.parseInt(gguf.substring(4, end));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Experts per MoE layer (0 for a dense model), as GGUF's {@code expert_count}. */
    private static int experts(Spec s) {
        for (Spec.LayerSpec l : s.layer) if (l.ffn() instanceof Spec.Moe m) return m.experts();
        return 0;
    }

    static MemorySegment encode(GgmlType t, float[] v, long[] shape) {
        return encode(t, v, shape, Arena.ofAuto());
    }

    /** {@code v} in type {@code t}, in memory of {@code arena}. */
    static MemorySegment encode(GgmlType t, float[] v, long[] shape, Arena arena) {
        MemorySegment out = arena.allocate(bytes(t, shape), 64);
        switch (t) {
            case F32 -> MemorySegment.copy(v, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v.length);
            case F16 -> { for (int i = 0; i < v.length; i++) out.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, Float.floatToFloat16(v[i])); }
            case BF16 -> { for (int i = 0; i < v.length; i++) out.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, BF16Tensor.fromFloat(v[i])); }
            default -> {
                // Rows shared out over the cores (each block's bytes depend on its values only, so the
                // file is the same whatever the thread count): the K-quants' scale search made this the
                // slow part of convert and quantize (1B Q4_K_M: 130 s against llama-quantize's 43 s,
                // 2 threads, AMD EPYC).
                long cols = shape[shape.length - 1], rowBytes = t.rowBytes(cols);
                int rows = Math.toIntExact(v.length / cols);
                Parallel.shared(Runtime.getRuntime().availableProcessors()).forRange(rows, 1,
                        (a, b) -> Quantizer.quantizeInto(t, v, Math.toIntExact(a * cols), Math.toIntExact((b - a) * cols), out, a * rowBytes));
            }
        }
        return out;
    }

    /** {@link #permuteRows} on stored rows of any type (a row is a whole number of blocks). */
    static MemorySegment permuteRowBytes(MemorySegment src, long[] shape, int headDim, Arena arena) {
        int rows = (int) shape[0];
        long rb = src.byteSize() / rows;
        MemorySegment out = arena.allocate(src.byteSize(), 64);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int h = r / headDim, j = r % headDim, which = j / half, i = j % half;
            MemorySegment.copy(src, r * rb, out, (long) (h * headDim + 2 * i + which) * rb, rb);
        }
        return out;
    }

    /** HF rotate-half rows to llama.cpp's adjacent pairs, per head: row (h, half, i) moves to (h, i, half). */
    static float[] permuteRows(float[] v, long[] shape, int headDim) {
        int rows = (int) shape[0], cols = shape.length > 1 ? (int) shape[1] : 1;
        float[] out = new float[v.length];
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int h = r / headDim, j = r % headDim, which = j / half, i = j % half;
            int dst = h * headDim + 2 * i + which;
            System.arraycopy(v, r * cols, out, dst * cols, cols);
        }
        return out;
    }

    private static void metadata(GgufWriter w, Config c, Spec s, String a) {
        w.u32(a + ".context_length", s.maxPositions);
        w.u32(a + ".embedding_length", s.hidden);
        w.u32(a + ".block_count", s.layers);
        int ff = 0;
        for (Spec.LayerSpec l : s.layer) if (l.ffn() instanceof Spec.Dense d) ff = d.intermediate();
        if (ff == 0) ff = ((Spec.Moe) s.layer[0].ffn()).intermediate();
        w.u32(a + ".feed_forward_length", ff);
        w.u32(a + ".attention.head_count", s.heads);
        w.u32(a + ".attention.head_count_kv", s.kvHeads);
        w.u32(a + ".attention.key_length", s.headDim);
        w.u32(a + ".attention.value_length", s.headDim);
        w.f32(a + ".attention.layer_norm_rms_epsilon", s.normEps);
        w.u32(a + ".vocab_size", s.vocab);
        var rope = firstRope(s);
        w.f32(a + ".rope.freq_base", (float) c.ropeParameters("full_attention").path("rope_theta").asDouble(10000));
        if (rope != null) w.u32(a + ".rope.dimension_count", rope.rotaryDim);
        for (Spec.LayerSpec l : s.layer)
            if (l.mask().kind() == jllm.tensor.AttentionMask.Kind.SLIDING) { w.u32(a + ".attention.sliding_window", l.mask().size()); break; }
        var rp = c.ropeParameters("full_attention");
        String rt = rp.path("rope_type").asText("default");
        switch (rt) {
            case "linear", "yarn" -> {
                w.string(a + ".rope.scaling.type", rt);
                w.f32(a + ".rope.scaling.factor", (float) rp.path("factor").asDouble(1));
                if (rp.has("original_max_position_embeddings")) w.u32(a + ".rope.scaling.original_context_length", rp.get("original_max_position_embeddings").asInt());
            }
            case "longrope" -> {
                w.u32(a + ".rope.scaling.original_context_length", rp.path("original_max_position_embeddings").asInt((int) c.num("original_max_position_embeddings", s.maxPositions)));
            }
            case "default", "llama3" -> { }
            default -> throw new FormatException("rope type '" + rt + "' cannot be written to GGUF");
        }
        if (Math.abs(s.attnScale - 1.0 / Math.sqrt(s.headDim)) > 1e-7 * s.attnScale) w.f32(a + ".attention.scale", s.attnScale);
        boolean uniform = true;
        for (Spec.LayerSpec l : s.layer) uniform &= l.mask().equals(s.layer[0].mask());
        if (!uniform) {
            String[] lt = new String[s.layers];
            for (int i = 0; i < s.layers; i++)
                lt[i] = switch (s.layer[i].mask().kind()) {
                    case CAUSAL -> "full_attention";
                    case SLIDING -> "sliding_attention";
                    case CHUNKED -> "chunked_attention";
                };
            w.strings("jllm.layer_types", lt);
        }
        if (s.attnSoftcap > 0) w.f32(a + ".attn_logit_softcapping", s.attnSoftcap);
        if (s.finalSoftcap > 0) w.f32(a + ".final_logit_softcapping", s.finalSoftcap);
        for (Spec.LayerSpec l : s.layer)
            if (l.ffn() instanceof Spec.Moe m) {
                w.u32(a + ".expert_count", m.experts());
                w.u32(a + ".expert_used_count", m.topK());
                if (a.equals("qwen3moe")) {
                    w.u32(a + ".expert_feed_forward_length", m.intermediate());
                    w.bool(a + ".expert_weights_norm", m.renormalize());
                }
                break;
            }
        if (a.equals("granite")) {
            w.f32(a + ".embedding_scale", s.embedScale);
            w.f32(a + ".residual_scale", s.residualScale);
            if (!w.has(a + ".attention.scale")) w.f32(a + ".attention.scale", s.attnScale);
            w.f32(a + ".logit_scale", 1f / s.logitScale);
        }
    }

    private static jllm.model.Rope firstRope(Spec s) {
        for (Spec.LayerSpec l : s.layer) if (l.rope() != null) return l.rope();
        return null;
    }

    /** llama3 scaling as per-frequency divisors (rope_freqs), longrope factor lists as tensors. */
    private static void ropeTensors(GgufWriter w, Config c, Spec s) {
        var rp = c.ropeParameters("full_attention");
        String rt = rp.path("rope_type").asText("default");
        jllm.model.Rope rope = firstRope(s);
        if (rope == null) return;
        if (rt.equals("llama3")) {
            float[] scaled = rope.inverseFrequencies();
            float[] base = jllm.model.Rope.fromConfig(Config.of("{\"rope_theta\": " + rp.path("rope_theta").asDouble(10000) + ", \"max_position_embeddings\": 1}"),
                    null, rope.rotaryDim, false).inverseFrequencies();
            float[] f = new float[scaled.length];
            for (int i = 0; i < f.length; i++) f[i] = base[i] / scaled[i];
            w.tensor("rope_freqs.weight", 0, new long[] {f.length}, encode(GgmlType.F32, f, new long[] {f.length}));
        } else if (rt.equals("longrope")) {
            for (String k : new String[] {"long_factor", "short_factor"}) {
                var arr = rp.get(k);
                float[] f = new float[arr.size()];
                for (int i = 0; i < f.length; i++) f[i] = (float) arr.get(i).asDouble();
                w.tensor("rope_factors_" + k.substring(0, k.indexOf('_')) + ".weight", 0, new long[] {f.length}, encode(GgmlType.F32, f, new long[] {f.length}));
            }
        }
    }

    /** bos/eos from config.json when the tokenizer metadata did not set them. */
    public static void finishMetadata(GgufWriter w, Config c) {
        Spec s = Architectures.forConfig(c).spec(c);
        if (s.bosId >= 0 && !w.has("tokenizer.ggml.bos_token_id")) w.u32("tokenizer.ggml.bos_token_id", s.bosId);
        if (s.eosIds.length > 0 && !w.has("tokenizer.ggml.eos_token_id")) w.u32("tokenizer.ggml.eos_token_id", s.eosIds[0]);
    }

    /** Converts to a new file ({@code out} must not exist). */
    public static void convert(Path hfDir, Path out, FileType type, Consumer<GgufWriter> extraMetadata, Consumer<String> progress) {
        convert(hfDir, out, type, false, extraMetadata, progress);
    }

    /**
     * Converts {@code hfDir} to a GGUF file at {@code out}, which may not be one of the files the
     * conversion reads and, unless {@code overwrite}, may not exist; checked before any work.
     */
    public static void convert(Path hfDir, Path out, FileType type, boolean overwrite, Consumer<GgufWriter> extraMetadata, Consumer<String> progress) {
        convert(hfDir, out, type, false, overwrite, extraMetadata, progress);
    }

    /** As above; {@code pure}: every matrix in {@code type} (see {@link #pick}). */
    public static void convert(Path hfDir, Path out, FileType type, boolean pure, boolean overwrite, Consumer<GgufWriter> extraMetadata,
                               Consumer<String> progress) {
        Config c = Config.read(hfDir.resolve("config.json"));
        try (TensorStore st = jllm.formats.safetensors.ShardedSafetensors.openDirectory(hfDir)) {
            List<Path> inputs = new ArrayList<>(st.files());
            for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                    "special_tokens_map.json", "chat_template.jinja", "model.safetensors.index.json"))
                if (java.nio.file.Files.exists(hfDir.resolve(f))) inputs.add(hfDir.resolve(f));
            OutputFile.check(out, overwrite, inputs);
            GgufWriter w = new GgufWriter();
            addModel(w, c, st, type, pure, hfDir.toAbsolutePath().normalize().getFileName().toString(), progress);
            extraMetadata.accept(w);
            finishMetadata(w, c);
            w.write(out, overwrite, inputs);
        }
    }
}
