package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import jllm.model.Grads;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Positions;
import jllm.tensor.CpuBackend;
import jllm.train.Fixtures;
import jllm.train.Gradients;
import jllm.train.HfTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LoRA attached to real fixture models through the decoder's adapter seam. The base weights' own
 * gradients are taken in the same run, so the full-weight identity {@code dA = s B^T dW},
 * {@code dB = s dW A^T} checks every adapter end to end, Phi-3's fused qkv_proj / gate_up_proj
 * included; with dropout, checkpointing (which runs each layer's forward again) gives the same bits
 * and another step another mask.
 */
public class LoraAdaptersTest {
    static Model load(String name) {
        return ModelLoader.load(Fixtures.root().resolve("hf").resolve(name), CpuBackend.reproducible(2), w -> { });
    }

    public static int[] tokens(Model m, int n, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(m.spec.vocab - 3);
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "phi3", "qwen3"})
    void adapterGradientsAreTheFullWeightGradientProjected(String name) {
        Model m = load(name);
        Grads g = Gradients.allWeights(m);
        LoraAdapters lora = LoraAdapters.attach(m.weights, new LoraConfig(4, 8, 0, false, List.of("all-linear")), 1);
        Random r = new Random(2);
        for (LoraWeights p : lora.pairs)
            for (int i = 0; i < p.b.value.length; i++) p.b.value[i] = (float) (r.nextGaussian() * 0.05);
        int[] t = tokens(m, 24, 3);
        Positions pos = Positions.batch(1, t.length);
        int[] labels = pos.nextTokenLabels(t);
        Gradients.accumulate(m, t, pos, labels, Gradients.targets(labels), g, true);
        Map<String, HfTensors.Named> dW = HfTensors.assemble(m.weights, k -> Gradients.download(m.backend(), g.of(k)));
        for (LoraWeights p : lora.pairs) {
            float[] w = dW.get(p.module + ".weight").data();
            double s = p.scale, errA = 0, normA = 0, errB = 0, normB = 0;
            for (int j = 0; j < p.rank; j++)
                for (int c = 0; c < p.in; c++) {
                    double want = 0;
                    for (int o = 0; o < p.out; o++) want += s * p.b.value[o * p.rank + j] * w[o * p.in + c];
                    errA += sq(want - p.a.grad[j * p.in + c]);
                    normA += sq(want);
                }
            for (int o = 0; o < p.out; o++)
                for (int j = 0; j < p.rank; j++) {
                    double want = 0;
                    for (int c = 0; c < p.in; c++) want += s * w[o * p.in + c] * p.a.value[j * p.in + c];
                    errB += sq(want - p.b.grad[o * p.rank + j]);
                    normB += sq(want);
                }
            assertTrue(normA > 0 && normB > 0, p.module + ": zero gradient");
            assertTrue(Math.sqrt(errA / normA) < 1e-5, name + " " + p.module + " dA rel L2 " + Math.sqrt(errA / normA));
            assertTrue(Math.sqrt(errB / normB) < 1e-5, name + " " + p.module + " dB rel L2 " + Math.sqrt(errB / normB));
        }
        int perLayer = name.equals("phi3") ? 4 : 7;
        assertEquals(perLayer * m.spec.layers, lora.pairs.size());
        var peft = lora.peftConfig(List.of(), "fixture");
        assertEquals(name.equals("phi3") ? List.of("qkv_proj", "o_proj", "gate_up_proj", "down_proj")
                : List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), peft.targetModules());
        assertEquals(2.0, peft.scale());
        assertEquals(lora.pairs.size(), lora.peftPairs().size());
    }

    static double sq(double x) { return x * x; }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "phi3"})
    void dropoutMasksRepeatUnderCheckpointing(String name) {
        float[][] first = null;
        for (int run = 0; run < 3; run++) {
            boolean checkpointing = run == 1;
            Model m = load(name);
            Grads g = new Grads();
            LoraAdapters lora = LoraAdapters.attach(m.weights, new LoraConfig(4, 8, 0.2, false, List.of(name.equals("phi3") ? "qkv_proj" : "q_proj", "down_proj")), 1);
            for (LoraWeights p : lora.pairs) java.util.Arrays.fill(p.b.value, 0.01f);
            lora.setStep(7, run == 2 ? 1 : 0, 0);
            int[] t = tokens(m, 20, 4);
            Positions pos = Positions.batch(1, t.length);
            int[] labels = pos.nextTokenLabels(t);
            Gradients.accumulate(m, t, pos, labels, Gradients.targets(labels), g, checkpointing);
            float[][] grads = lora.params().stream().map(p -> p.grad.clone()).toArray(float[][]::new);
            if (first == null) first = grads;
            else if (run == 1) for (int i = 0; i < grads.length; i++) assertArrayEquals(first[i], grads[i], name + " param " + i);
            else assertFalse(java.util.Arrays.equals(first[0], grads[0]), "another step must draw another dropout mask");
        }
    }
}
