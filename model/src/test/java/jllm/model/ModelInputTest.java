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
        return Path.of(System.getProperty("jllm.fixtures", "../../shared/fixtures")).resolve("hf").resolve(name);
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

    @Test
    void bf16AndF16CheckpointsLoadAndComputeInFp32() throws IOException {
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Path src = fixture("llama2");
            Path out = Files.createTempDirectory(dir, dt.name());
            Files.copy(src.resolve("config.json"), out.resolve("config.json"));
            SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"));
            SafetensorsWriter w = new SafetensorsWriter();
            for (var e : f.entries().values()) {
                float[] v = f.tensor(e.name()).toFloatArray();
                MemorySegment s = MemorySegment.ofArray(new byte[v.length * 2]);
                for (int i = 0; i < v.length; i++)
                    s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i,
                            dt == DType.BF16 ? jllm.tensor.BF16Tensor.fromFloat(v[i]) : Float.floatToFloat16(v[i]));
                w.add(e.name(), dt, e.shape(), s);
            }
            w.write(out.resolve("model.safetensors"));
            Model m = ModelLoader.load(out, new CpuBackend(2), s -> { });
            assertEquals(dt, m.weights.layers[0].q.w.dtype());
            float[] logits = m.forward(m.newState(), new int[] {1, 5, 9, 33}, true, null);
            for (float x : logits) assertTrue(Float.isFinite(x));
        }
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
