package jllm.train.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.model.Model;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.DType;
import jllm.tensor.Parallel;
import jllm.train.Fixtures;
import jllm.train.lora.AdapterLoadTest;
import jllm.train.lora.LoraAdapters;
import jllm.train.lora.LoraConfig;
import jllm.train.peft.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A merged model computes what the base with the adapter attached computes, to fp32 round-off (the
 * merged weight is rounded once where the adapter path rounds its own products): from HF bases, fused
 * projections included, and from GGUF bases, where Q/K rows come back out of llama.cpp's pair order and
 * Gemma's norms out of 1 + w.
 */
class MergeTest {
    @TempDir Path dir;

    static Path fixture(String n) { return Fixtures.root().resolve("hf").resolve(n); }

    /** Attaches a random adapter to the model at {@code base}, saves it; returns {logits with adapter} and the adapter dir in {@code out}. */
    float[] adapterLogits(Path base, Path out, String... targets) {
        Model m = AdapterLoadTest.load(base);
        LoraAdapters lora = AdapterLoadTest.randomAdapter(m, new LoraConfig(4, 8, 0, false, List.of(targets)));
        AdapterLoadTest.save(lora, out);
        return AdapterLoadTest.logits(m);
    }

    Path merge(Path base, Path adapter, Path out) {
        try (BaseCheckpoint b = BaseCheckpoint.open(base)) {
            b.requireHfExpressible();
            MergedTensors mt = new MergedTensors(b.tensors(), PeftAdapter.read(adapter), Parallel.shared(2));
            HfCheckpointWriter.write(out, false, List.of(base, adapter), b.config(), b.tensors(), mt, b.dir(), DType.F32, s -> { });
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "phi3", "qwen3", "gemma2", "mixtral"})
    void mergedHfModelEqualsBasePlusAdapter(String name) throws Exception {
        float[] want = adapterLogits(fixture(name), dir.resolve("ad"), "all-linear");
        Path merged = merge(fixture(name), dir.resolve("ad"), dir.resolve("merged"));
        float[] got = AdapterLoadTest.logits(AdapterLoadTest.load(merged));
        assertClose(want, got, name);
        assertTrue(Files.exists(merged.resolve("generation_config.json")), "generation_config.json is copied");
        // Untouched tensors are the base's bytes.
        var a = SafetensorsFile.open(fixture(name).resolve("model.safetensors"));
        var b = SafetensorsFile.open(merged.resolve("model.safetensors"));
        assertEquals(a.names(), b.names());
        String norm = a.names().stream().filter(x -> x.contains("norm")).findFirst().orElseThrow();
        assertArrayEquals(a.tensor(norm).toFloatArray(), b.tensor(norm).toFloatArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "gemma", "qwen3"})
    void mergedGgufBaseEqualsGgufPlusAdapter(String name) {
        Path gguf = dir.resolve(name + ".gguf");
        GgufConverter.convert(fixture(name), gguf, GgufConverter.FileType.F32, w -> { }, p -> { });
        float[] want = adapterLogits(gguf, dir.resolve("ad"), "all-linear");
        Path merged = merge(gguf, dir.resolve("ad"), dir.resolve("merged"));
        assertClose(want, AdapterLoadTest.logits(AdapterLoadTest.load(merged)), name + " gguf");
        // and the HF fixture with the same adapter agrees (the GGUF's weights are the fixture's)
        Model hf = AdapterLoadTest.load(fixture(name));
        LoraAdapters.load(hf.weights, PeftAdapter.read(dir.resolve("ad")));
        assertClose(want, AdapterLoadTest.logits(hf), name + " hf");
    }

    @Test
    void ggufWithRopeFactorTensorIsRefusedForHfLayout() {
        Path gguf = dir.resolve("llama3.gguf");
        GgufConverter.convert(fixture("llama3"), gguf, GgufConverter.FileType.F32, w -> { }, p -> { });
        try (BaseCheckpoint b = BaseCheckpoint.open(gguf)) {
            var e = assertThrows(FormatException.class, b::requireHfExpressible);
            assertTrue(e.getMessage().contains("rope_freqs.weight"), e.getMessage());
        }
    }

    @Test
    void adapterOfAnotherModelIsRefused() {
        adapterLogits(fixture("qwen3"), dir.resolve("ad"), "q_proj");
        try (BaseCheckpoint b = BaseCheckpoint.open(fixture("phi3"))) {
            var e = assertThrows(FormatException.class, () -> new MergedTensors(b.tensors(), PeftAdapter.read(dir.resolve("ad")), Parallel.shared(1)));
            assertTrue(e.getMessage().contains("another model"), e.getMessage());
        }
    }

    @Test
    void f16OverflowIsAnErrorNotInf() {
        var e = assertThrows(FormatException.class, () -> HfCheckpointWriter.encode("w", new float[] {1f, 70000f}, DType.F16));
        assertTrue(e.getMessage().contains("does not fit in F16"), e.getMessage());
    }

    static void assertClose(float[] want, float[] got, String what) {
        double max = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        assertTrue(max <= 2e-5 * Math.max(1, scale), what + ": max abs diff " + max + " (logits up to " + scale + ")");
    }
}
