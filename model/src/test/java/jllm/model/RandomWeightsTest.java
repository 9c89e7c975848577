package jllm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jllm.tensor.CpuBackend;
import jllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;

class RandomWeightsTest {
    static final int[] PROMPT = {3, 17, 42, 5, 88, 61, 9, 30, 77, 12, 1, 95};

    static double relL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) { num += (a[i] - b[i]) * (double) (a[i] - b[i]); den += (double) b[i] * b[i]; }
        return Math.sqrt(num / den);
    }

    @Test
    void quantizedModelsTrackTheF32ModelOfTheSameSeed() {
        Config c = Presets.config("tiny-llama");
        CpuBackend be = new CpuBackend(2);
        Model ref = RandomWeights.model(c, GgmlType.F32, 7, be);
        float[] want = ref.forward(ref.newState(), PROMPT, true, null);
        // 1.5x the measured errors (F16 8e-4, Q8_0 0.015, Q6_K 0.051, Q5_K 0.116, Q4_K 0.232 ...): a broken kernel or layout gives ~1
        Object[][] cases = {{GgmlType.F16, 1.2e-3}, {GgmlType.BF16, 0.01}, {GgmlType.Q8_0, 0.025}, {GgmlType.Q6_K, 0.08},
                {GgmlType.Q5_0, 0.2}, {GgmlType.Q5_1, 0.2}, {GgmlType.Q5_K, 0.2}, {GgmlType.Q4_0, 0.4},
                {GgmlType.Q4_1, 0.4}, {GgmlType.Q4_K, 0.4}};
        for (Object[] e : cases) {
            Model m = RandomWeights.model(c, (GgmlType) e[0], 7, be);
            double err = relL2(m.forward(m.newState(), PROMPT, true, null), want);
            assertTrue(err < (double) e[1], e[0] + " logits differ from F32 by " + err);
        }
    }

    @Test
    void prefillKernelsAgreeWithTokenByTokenDecoding() {
        Config c = Presets.config("tiny-llama");
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16}) {
            Model m = RandomWeights.model(c, t, 3, new CpuBackend(2));
            float[] all = m.forward(m.newState(), PROMPT, false, null);
            Model.State st = m.newState();
            float[] last = null;
            for (int id : PROMPT) last = m.forward(st, new int[] {id}, false, null);
            assertTrue(relL2(last, all) < 1e-5, t + ": prefill and decode disagree by " + relL2(last, all));
        }
    }

    @Test
    void presetsHaveThePublishedShapes() {
        RandomWeights w = new RandomWeights(Presets.config("llama-3.2-1b"), GgmlType.Q8_0, 1, 1);
        assertEquals(16 * 9 + 2, w.names().size());
        assertEquals(java.util.List.of(8192L, 2048L), java.util.Arrays.stream(w.info("model.layers.0.mlp.up_proj.weight").shape()).boxed().toList());
        // 1.236e9 weights in 34/32 bytes each, plus norms
        assertEquals(1_313_251_328L, w.bytes(), 2_000_000L);
        // small-270m (the training benchmark's geometry): 12 layers of 7 projections + 2 norms, tied head
        RandomWeights s = new RandomWeights(Presets.config("small-270m"), GgmlType.F32, 1, 1);
        assertEquals(12 * 9 + 2, s.names().size());
        assertEquals(java.util.List.of(256L, 1024L), java.util.Arrays.stream(s.info("model.layers.11.self_attn.k_proj.weight").shape()).boxed().toList());
        // 128256 * 1024 embedding + 12 * (2 * 1024^2 + 2 * 256 * 1024 + 3 * 3072 * 1024 + 2 * 1024) + 1024 fp32 values
        assertEquals(4L * 276_063_232L, s.bytes());
        assertThrows(IllegalArgumentException.class, () -> Presets.config("gpt-5"));
        assertThrows(IllegalArgumentException.class, () -> new RandomWeights(Presets.config("tiny-llama"), GgmlType.Q2_K, 1, 1));
    }
}
