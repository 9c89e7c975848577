package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.CpuBackend;
import jllm.train.Fixtures;
import jllm.train.peft.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An adapter saved in PEFT's layout and loaded onto a fresh model through {@link LoraAdapters#load}
 * gives the model that trained it, bit for bit; on a GGUF copy of the base (Q/K rows in llama.cpp's
 * pair order) it gives the same logits to fp32 round-off, both ways.
 */
public class AdapterLoadTest {
    @TempDir Path dir;

    public static Model load(Path p) { return ModelLoader.load(p, CpuBackend.reproducible(2), w -> { }); }

    static Path fixture(String name) { return Fixtures.root().resolve("hf").resolve(name); }

    public static LoraAdapters randomAdapter(Model m, LoraConfig cfg) {
        LoraAdapters lora = LoraAdapters.attach(m.weights, cfg, 5);
        Random r = new Random(9);
        for (LoraWeights p : lora.pairs) for (int i = 0; i < p.b.value.length; i++) p.b.value[i] = (float) (r.nextGaussian() * 0.1);
        return lora;
    }

    public static float[] logits(Model m) {
        int[] t = LoraAdaptersTest.tokens(m, 12, 3);
        return m.forward(m.newState(), t, true, null);
    }

    public static Path save(LoraAdapters lora, Path to) {
        return new PeftAdapter(lora.peftConfig(List.of(), "base"), lora.peftPairs(), List.of(), null).write(to, false, List.of());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "phi3", "qwen3", "gemma2"})
    void savedAdapterReloadsBitExactly(String name) {
        Model trained = load(fixture(name));
        float[] base = logits(trained);
        LoraAdapters lora = randomAdapter(trained, new LoraConfig(4, 8, 0, true, List.of("all-linear")));
        float[] want = logits(trained);
        assertTrue(maxDiff(base, want) > 1e-3, "the adapter must change the logits");
        Path ad = save(lora, dir.resolve(name));
        Model fresh = load(fixture(name));
        LoraAdapters back = LoraAdapters.load(fresh.weights, PeftAdapter.read(ad));
        assertEquals(lora.pairs.size(), back.pairs.size());
        assertEquals(lora.config.scale(), back.config.scale(), 0);
        assertArrayEquals(want, logits(fresh));
        LoraAdapters.detachAll(fresh.weights);
        assertArrayEquals(base, logits(fresh));
    }

    @Test
    void ggufBaseTakesAnHfAdapterAndGivesItBackInHfOrder() {
        Path gguf = dir.resolve("llama3.gguf");
        GgufConverter.convert(fixture("llama3"), gguf, GgufConverter.FileType.F32, w -> { }, p -> { });
        Model hf = load(fixture("llama3"));
        LoraAdapters lora = randomAdapter(hf, new LoraConfig(4, 8, 0, false, List.of("all-linear")));
        float[] want = logits(hf);
        Path ad = save(lora, dir.resolve("from-hf"));

        Model g = load(gguf);
        LoraAdapters onGguf = LoraAdapters.load(g.weights, PeftAdapter.read(ad));
        assertTrue(maxDiff(want, logits(g)) < 1e-4, "HF adapter on the GGUF base: " + maxDiff(want, logits(g)));
        // Saved from the GGUF model, the pairs are in transformers' order again: the HF base reproduces them.
        Path back = save(onGguf, dir.resolve("from-gguf"));
        Model hf2 = load(fixture("llama3"));
        LoraAdapters.load(hf2.weights, PeftAdapter.read(back));
        assertArrayEquals(want, logits(hf2));
    }

    @Test
    void adapterForAnotherModelIsRefusedByName() {
        Model q = load(fixture("qwen3"));
        Path ad = save(randomAdapter(q, new LoraConfig(2, 2, 0, false, List.of("q_proj"))), dir.resolve("q"));
        Model phi = load(fixture("phi3"));
        var e = assertThrows(IllegalArgumentException.class, () -> LoraAdapters.load(phi.weights, PeftAdapter.read(ad)));
        assertTrue(e.getMessage().contains("q_proj") && e.getMessage().contains("not a linear layer of this model"), e.getMessage());
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
