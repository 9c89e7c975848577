package jllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.tensor.CpuBackend;
import jllm.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken or hostile checkpoints and configs get a clear error naming the problem. */
class ModelInputTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        return jllm.testkit.Fixtures.path("hf/" + name);
    }

    /** Copies a fixture model into {@code dir}, letting the caller edit config and tensors. */
    private Path variant(String fixture, Consumer<ObjectNode> editConfig, Consumer<SafetensorsWriter> extra, String... drop) throws IOException {
        Path src = fixture(fixture);
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(src.resolve("config.json").toFile());
        editConfig.accept(cfg);
        Path out = Files.createTempDirectory(dir, fixture);
        Files.writeString(out.resolve("config.json"), cfg.toString());
        SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"));
        SafetensorsWriter w = new SafetensorsWriter();
        for (var e : f.entries().values())
            if (!List.of(drop).contains(e.name())) w.add(e.name(), e.dtype(), e.shape(), f.bytes(e.name()));
        extra.accept(w);
        w.write(out.resolve("model.safetensors"));
        return out;
    }

    private String loadError(Path p) {
        return assertThrows(FormatException.class, () -> ModelLoader.load(p, new CpuBackend(1), s -> { })).getMessage();
    }

    @Test
    void unknownModelTypeListsSupported() throws IOException {
        String m = loadError(variant("llama2", c -> { c.put("model_type", "gpt_neox"); c.putArray("architectures").add("GPTNeoXForCausalLM"); }, w -> { }));
        assertTrue(m.contains("unsupported architecture") && m.contains("gpt_neox") && m.contains("llama") && m.contains("qwen3_moe"), m);
    }

    @Test
    void absurdDimensionsAreRefusedWithoutAllocating() throws IOException {
        String m = loadError(variant("llama2", c -> c.put("hidden_size", 1L << 40), w -> { }));
        assertTrue(m.contains("hidden_size") && m.contains("not plausible"), m);
        m = loadError(variant("llama2", c -> c.put("vocab_size", -3), w -> { }));
        assertTrue(m.contains("vocab_size"), m);
        m = loadError(variant("llama2", c -> { c.put("num_hidden_layers", 2000); c.put("hidden_size", 100000); c.put("vocab_size", 8000000); c.remove("head_dim"); c.put("num_attention_heads", 1000); c.put("num_key_value_heads", 1000); }, w -> { }));
        assertTrue(m.contains("not plausible"), m);
        m = loadError(variant("llama2", c -> c.put("num_key_value_heads", 3), w -> { }));
        assertTrue(m.contains("multiple"), m);
    }

    @Test
    void missingAndUnexpectedTensors() throws IOException {
        String m = loadError(variant("llama2", c -> { }, w -> { }, "model.layers.1.mlp.up_proj.weight"));
        assertTrue(m.contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"), m);
        m = loadError(variant("llama2", c -> { }, w -> w.addF32("model.layers.0.extra.weight", new float[] {1}, 1)));
        assertTrue(m.contains("unexpected tensors") && m.contains("model.layers.0.extra.weight"), m);
    }

    @Test
    void shapeMismatchNamesTensorAndExpectation() throws IOException {
        String m = loadError(variant("llama2", c -> c.put("intermediate_size", 97), w -> { }));
        assertTrue(m.contains("mlp.") && m.contains("expected [97, 64]"), m);
    }

    @Test
    void nonFiniteWeightsWarn() throws IOException {
        Path p = variant("llama2", c -> { }, w -> { }, "model.norm.weight");
        // put model.norm.weight back with a NaN in it
        Path q = variant("llama2", c -> { }, w -> {
            float[] v = new float[64];
            java.util.Arrays.fill(v, 1f);
            v[3] = Float.NaN;
            v[5] = Float.POSITIVE_INFINITY;
            w.addF32("model.norm.weight", v, 64);
        }, "model.norm.weight");
        List<String> warnings = new ArrayList<>();
        ModelLoader.load(q, new CpuBackend(1), warnings::add);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("model.norm.weight") && warnings.get(0).contains("2 NaN/Inf"), warnings.get(0));
        assertTrue(loadError(p).contains("model.norm.weight"));
    }

    /**
     * BF16 and F16 checkpoints compute in fp32: their logits equal, to fp32 round-off, those of an F32
     * checkpoint holding the same rounded values, and stay within the type's rounding of the original.
     */
    @Test
    void bf16AndF16CheckpointsLoadAndComputeInFp32() throws IOException {
        Path src = fixture("llama2");
        int[] ids = {1, 5, 9, 33};
        float[] original = logits(src, ids);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Path half = Files.createTempDirectory(dir, dt.name()), widened = Files.createTempDirectory(dir, dt.name() + "-as-f32");
            SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"));
            SafetensorsWriter w = new SafetensorsWriter(), w32 = new SafetensorsWriter();
            for (var e : f.entries().values()) {
                float[] v = f.tensor(e.name()).toFloatArray();
                MemorySegment s = MemorySegment.ofArray(new byte[v.length * 2]), s32 = MemorySegment.ofArray(new byte[v.length * 4]);
                for (int i = 0; i < v.length; i++) {
                    short h = dt == DType.BF16 ? jllm.tensor.BF16Tensor.fromFloat(v[i]) : Float.floatToFloat16(v[i]);
                    s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, h);
                    float r = dt == DType.BF16 ? jllm.tensor.BF16Tensor.toFloat(h) : Float.float16ToFloat(h);
                    s32.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, r);
                }
                w.add(e.name(), dt, e.shape(), s);
                w32.add(e.name(), DType.F32, e.shape(), s32);
            }
            for (Path out : new Path[] {half, widened}) Files.copy(src.resolve("config.json"), out.resolve("config.json"));
            w.write(half.resolve("model.safetensors"));
            w32.write(widened.resolve("model.safetensors"));
            Model m = ModelLoader.load(half, new CpuBackend(2, true), s -> { });
            assertEquals(dt, m.weights.layers[0].q.w.dtype());
            float[] logits = m.forward(m.newState(), ids, true, null);
            float[] same = logits(widened, ids);
            assertTrue(relL2(logits, same) < 1e-5, dt + " vs the same values in F32: " + relL2(logits, same));
            double rounding = relL2(logits, original);
            assertTrue(rounding > 0 && rounding < (dt == DType.BF16 ? 3e-2 : 3e-3), dt + " vs the F32 original: " + rounding);
        }
    }

    private static float[] logits(Path model, int[] ids) {
        Model m = ModelLoader.load(model, new CpuBackend(2, true), s -> { });
        return m.forward(m.newState(), ids, true, null);
    }

    private static double relL2(float[] a, float[] b) {
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) { d += (a[i] - (double) b[i]) * (a[i] - (double) b[i]); n += (double) b[i] * b[i]; }
        return Math.sqrt(d / n);
    }

    @Test
    void hugeContextIsAClearErrorNotAnOom() throws IOException {
        Model m = ModelLoader.load(fixture("llama2"), new CpuBackend(1), s -> { });
        String msg = assertThrows(IllegalArgumentException.class, () -> m.newState().ensure(1 << 30)).getMessage();
        assertTrue(msg.contains("KV cache for 1073741824 tokens"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> m.forward(m.newState(), new int[] {100000}, false, null)).getMessage();
        assertTrue(msg.contains("outside the vocabulary"), msg);
    }
}
