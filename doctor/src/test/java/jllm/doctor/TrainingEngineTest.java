package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import jllm.model.Grads;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Positions;
import jllm.model.Spec;
import jllm.tensor.CpuBackend;
import jllm.train.Gradients;
import jllm.train.HfTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Properties of the training engine that need no reference: gradient checkpointing and a second
 * run give the same bits, the loss chunking does not change the result, packed examples equal the
 * same examples run one by one, and micro-batches of different lengths accumulate to the gradient
 * of the whole batch when the loss is divided by the step's total target tokens.
 */
class TrainingEngineTest {
    private static Model load(String name) {
        return ModelLoader.load(Fixtures.root().resolve("hf").resolve(name), CpuBackend.reproducible(2), w -> { });
    }

    private static int[] randomTokens(Random r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(vocab - 3);
        return t;
    }

    private record Run(double loss, Map<String, HfTensors.Named> grads) {}

    private static Run run(Model m, int[] tokens, Positions p, int targets, boolean checkpointing) {
        Grads g = Gradients.allWeights(m);
        double loss = Gradients.accumulate(m, tokens, p, p.nextTokenLabels(tokens), targets, g, checkpointing);
        return new Run(loss, HfTensors.assemble(m.weights, k -> Gradients.download(m.backend(), g.of(k))));
    }

    private static Run sum(Run a, Run b) {
        Map<String, HfTensors.Named> out = new java.util.LinkedHashMap<>();
        for (var e : a.grads().entrySet()) {
            float[] x = e.getValue().data().clone(), y = b.grads().get(e.getKey()).data();
            for (int i = 0; i < x.length; i++) x[i] += y[i];
            out.put(e.getKey(), new HfTensors.Named(e.getKey(), e.getValue().shape(), x));
        }
        return new Run(a.loss() + b.loss(), out);
    }

    private static void assertClose(Run want, Run got, double tol, String what) {
        assertEquals(want.loss(), got.loss(), tol * Math.abs(want.loss()), what + " loss");
        for (var e : want.grads().entrySet()) {
            var row = ReferenceCompare.row(e.getKey(), got.grads().get(e.getKey()).data(), e.getValue().data());
            assertTrue(row.relL2() <= tol, what + " grad." + e.getKey() + " rel L2 " + row.relL2());
        }
    }

    private static void assertSameBits(Run want, Run got, String what) {
        assertEquals(want.loss(), got.loss(), 0.0, what + " loss");
        for (var e : want.grads().entrySet()) assertArrayEquals(e.getValue().data(), got.grads().get(e.getKey()).data(), what + " grad." + e.getKey());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama4", "gemma2", "qwen3_moe", "nemotron", "olmo2", "phi3", "granite", "llama32_tied"})
    void checkpointingAndRerunsGiveTheSameBits(String name) {
        Model m = load(name);
        int[] tokens = randomTokens(new Random(name.hashCode()), 2 * 40, m.spec.vocab);
        Positions p = Positions.batch(2, 40);
        int targets = Gradients.targets(p.nextTokenLabels(tokens));
        Run plain = run(m, tokens, p, targets, false);
        assertSameBits(plain, run(m, tokens, p, targets, true), name + " checkpointing");
        assertSameBits(plain, run(m, tokens, p, targets, false), name + " second run");
        // checkpointing's recomputation with no projection outputs kept, and with them kept for one layer only
        m.checkpointKeepBytes(0);
        assertSameBits(plain, run(m, tokens, p, targets, true), name + " checkpointing, everything recomputed");
        if (m.spec.layer[0].ffn() instanceof Spec.Dense d) {
            int qD = m.spec.heads * m.spec.headDim, kvD = m.spec.kvHeads * m.spec.headDim;
            m.checkpointKeepBytes(4L * tokens.length * (qD + 2L * kvD + (m.spec.gated ? 2L : 1L) * d.intermediate()) * 3 / 2);
            assertEquals(1, m.trainForward(tokens, p, true).layersKeepingProjections(), name);
            assertSameBits(plain, run(m, tokens, p, targets, true), name + " checkpointing, one layer's projections kept");
        }
        m.lossChunkFloats(3 * m.spec.vocab);
        assertClose(plain, run(m, tokens, p, targets, false), 1e-6, name + " loss in 3-row chunks");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "gemma3", "mixtral", "llama4"})
    void packedExamplesEqualTheSameExamplesRunOneByOne(String name) {
        Model m = load(name);
        Random r = new Random(7);
        int[] lengths = {5, 9, 3, 12};
        int total = 0;
        for (int n : lengths) total += n;
        int[] all = randomTokens(r, total, m.spec.vocab), starts = new int[lengths.length];
        for (int i = 1; i < lengths.length; i++) starts[i] = starts[i - 1] + lengths[i - 1];
        Positions packed = Positions.packed(starts, total);
        int targets = Gradients.targets(packed.nextTokenLabels(all));
        assertEquals(total - lengths.length, targets, "one target per token except each example's last");
        Run whole = run(m, all, packed, targets, true);
        // the same examples as four micro-batches of different lengths, the loss divided by the step's total targets
        Run acc = null;
        for (int i = 0; i < lengths.length; i++) {
            int[] ex = java.util.Arrays.copyOfRange(all, starts[i], starts[i] + lengths[i]);
            Run one = run(m, ex, Positions.batch(1, lengths[i]), targets, false);
            acc = acc == null ? one : sum(acc, one);
        }
        // fp32 round-off of two summation orders: 2.25e-6 (gemma3's k_norm weight) with 256-bit vectors on an AVX2-only AMD EPYC
        assertClose(acc, whole, 5e-6, name + " packed vs micro-batches");
        // segment ids describe the same packing
        int[] seg = new int[total];
        for (int i = 0; i < lengths.length; i++) java.util.Arrays.fill(seg, starts[i], starts[i] + lengths[i], 10 + i % 2);
        assertSameBits(whole, run(m, all, Positions.segments(seg), targets, true), name + " segment ids");
    }

    /**
     * With the embedding frozen the first layer skips its input gradient (q, k, v's dX, and the input
     * norm's backward when that norm is frozen too): every other gradient must keep its bits.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "olmo2", "gemma3"})
    void aFrozenEmbeddingChangesNoOtherGradient(String name) {
        Model m = load(name);
        int[] tokens = randomTokens(new Random(8), 2 * 24, m.spec.vocab);
        Positions p = Positions.batch(2, 24);
        int[] labels = p.nextTokenLabels(tokens);
        Grads all = Gradients.allWeights(m);
        Gradients.accumulate(m, tokens, p, labels, Gradients.targets(labels), all, true);
        for (boolean freezeNorms : new boolean[] {false, true}) {
            Grads some = new Grads();
            for (var e : m.weights.params) {
                boolean norm = e.key() instanceof jllm.tensor.Buf;
                if (e.key() != m.weights.embed && !(freezeNorms && norm)) some.put(e.key(), m.backend().alloc(all.of(e.key()).size()));
            }
            Gradients.accumulate(m, tokens, p, labels, Gradients.targets(labels), some, true);
            for (var e : some.all().entrySet())
                assertArrayEquals(Gradients.download(m.backend(), all.of(e.getKey())), Gradients.download(m.backend(), e.getValue()),
                        name + (freezeNorms ? " (norms frozen too)" : ""));
        }
    }

    /** An adapter adding {@code x D^T}: with D = 0 its gradient must be exactly the base weight's. */
    private static final class DenseAdapter implements jllm.model.Weights.Adapter {
        final jllm.tensor.Tensor d;
        final jllm.tensor.Buf grad;
        int forwards, backwards;

        DenseAdapter(jllm.tensor.Backend be, int out, int in) {
            d = new jllm.tensor.HeapF32Tensor(new float[out * in], out, in);
            grad = be.alloc(out * in);
        }

        @Override
        public void forward(jllm.tensor.Backend be, jllm.tensor.Buf x, jllm.tensor.Buf y, int rows, boolean training) {
            jllm.tensor.Buf t = be.alloc(rows * d.dim(0));
            be.matmul(d, x, t, rows, null);
            be.addScaled(y, t, 1f, rows * d.dim(0));
            forwards++;
        }

        @Override
        public void backward(jllm.tensor.Backend be, jllm.tensor.Buf x, jllm.tensor.Buf dy, jllm.tensor.Buf dx, int rows) {
            be.matmulBackward(d, x, dy, rows, dx, true, grad, null);
            backwards++;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "mixtral", "phi3"})
    void adaptersSeeTheGradientOfTheirLinearLayer(String name) {
        Model m = load(name);
        var adapters = new java.util.IdentityHashMap<jllm.model.Weights.Linear, DenseAdapter>();
        for (var lin : m.weights.linears()) {
            DenseAdapter a = new DenseAdapter(m.backend(), lin.out(), lin.in());
            lin.adapter = a;
            adapters.put(lin, a);
        }
        int[] tokens = randomTokens(new Random(3), 2 * 33, m.spec.vocab);
        Positions p = Positions.batch(2, 33);
        Grads g = Gradients.allWeights(m);
        Gradients.accumulate(m, tokens, p, p.nextTokenLabels(tokens), Gradients.targets(p.nextTokenLabels(tokens)), g, true);
        for (var e : adapters.entrySet()) {
            DenseAdapter a = e.getValue();
            // checkpointing recomputes what backward reads: not the last layer, nor o_proj/down_proj (outputs only the residual needs)
            assertTrue(a.backwards >= 1 && a.forwards >= a.backwards || a.backwards == 0 && a.forwards == 0, "a forward for each backward");
            if (a.backwards == 0) continue; // an expert no token chose
            assertArrayEquals(Gradients.download(m.backend(), g.of(e.getKey().w)), Gradients.download(m.backend(), a.grad), name + " adapter gradient");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3_moe"})
    void fullFineTuningOverfitsOneBatch(String name) {
        Model m = load(name);
        Grads g = new Grads();
        var params = jllm.train.FullFineTuning.trainable(m, g, n -> true);
        int[] tokens = randomTokens(new Random(11), 24, m.spec.vocab);
        Positions p = Positions.batch(1, 24);
        int[] labels = p.nextTokenLabels(tokens);
        int targets = Gradients.targets(labels);
        // plain Adam, enough to show the gradients lead somewhere (the real optimisers live in train)
        float lr = 3e-3f, b1 = 0.9f, b2 = 0.999f;
        java.util.Map<jllm.train.Param, float[][]> state = new java.util.IdentityHashMap<>();
        double first = 0, loss = 0;
        for (int step = 1; step <= 150; step++) {
            for (var q : params) q.zeroGrad();
            loss = Gradients.accumulate(m, tokens, p, labels, targets, g, true) / targets;
            if (step == 1) first = loss;
            for (var q : params) {
                float[][] s = state.computeIfAbsent(q, k -> new float[][] {new float[k.value.length], new float[k.value.length]});
                for (int i = 0; i < q.value.length; i++) {
                    s[0][i] = b1 * s[0][i] + (1 - b1) * q.grad[i];
                    s[1][i] = b2 * s[1][i] + (1 - b2) * q.grad[i] * q.grad[i];
                    double mh = s[0][i] / (1 - Math.pow(b1, step)), vh = s[1][i] / (1 - Math.pow(b2, step));
                    q.value[i] -= (float) (lr * mh / (Math.sqrt(vh) + 1e-8));
                }
            }
            if (loss < 0.05) break;
        }
        assertTrue(loss < 0.05, name + ": loss " + first + " -> " + loss + " after full fine-tuning one batch");
    }

    /**
     * QLoRA's situation: matrices frozen in a quantized format, gradients flowing through them. A
     * Q8_0 GGUF model and the same model with every matrix decoded to fp32 must give the same loss
     * and the same norm-weight gradients (only the input gradients pass through the quantized weights).
     */
    @org.junit.jupiter.api.Test
    void gradientsFlowThroughFrozenQuantizedWeights(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path gguf = tmp.resolve("llama3-q8.gguf");
        jllm.model.gguf.GgufConverter.convert(Fixtures.root().resolve("hf/llama3"), gguf, jllm.model.gguf.GgufConverter.FileType.Q8_0, w -> { }, s -> { });
        Model quant = ModelLoader.load(gguf, CpuBackend.reproducible(2), w -> { }), dense = ModelLoader.load(gguf, CpuBackend.reproducible(2), w -> { });
        for (var e : java.util.List.copyOf(dense.weights.params))
            if (e.key() instanceof jllm.tensor.Tensor t) dense.weights.replace(t, new jllm.tensor.HeapF32Tensor(t.toFloatArray(), t.shape()));
        assertEquals(jllm.tensor.DType.Q8_0, quant.weights.layers[0].q.w.dtype());
        int[] tokens = randomTokens(new Random(5), 2 * 32, quant.spec.vocab);
        Positions p = Positions.batch(2, 32);
        Run[] runs = new Run[2];
        Model[] models = {quant, dense};
        for (int i = 0; i < 2; i++) {
            Model m = models[i];
            Grads g = new Grads();
            for (var e : m.weights.params) if (e.key() instanceof jllm.tensor.Buf b) g.put(b, m.backend().alloc(b.size()));
            int[] labels = p.nextTokenLabels(tokens);
            double loss = Gradients.accumulate(m, tokens, p, labels, Gradients.targets(labels), g, true);
            runs[i] = new Run(loss, HfTensors.assemble(m.weights, k -> g.of(k) == null ? null : Gradients.download(m.backend(), g.of(k))));
        }
        assertTrue(runs[0].grads().size() >= 5, "norm weights were trained: " + runs[0].grads().keySet());
        assertClose(runs[1], runs[0], 1e-5, "Q8_0 base vs its fp32 decoding");
    }

    /**
     * A Llama-architecture GGUF keeps Q/K rows in llama.cpp's pair order and runs RoPE on adjacent
     * pairs: its gradients, put back in transformers' order, must match the transformers reference.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "granite"})
    void ggufModelsMatchTheReferenceGradients(String name, @org.junit.jupiter.api.io.TempDir Path tmp) {
        Path gguf = tmp.resolve(name + ".gguf"), dir = Fixtures.root().resolve("hf").resolve(name);
        jllm.model.gguf.GgufConverter.convert(dir, gguf, jllm.model.gguf.GgufConverter.FileType.F32, w -> { }, s -> { });
        Model m = ModelLoader.load(gguf, CpuBackend.reproducible(2), w -> { });
        assertTrue(m.spec.layer[0].rope().interleaved, "llama GGUF rotates pairs");
        GradCompare.Result r = GradCompare.run(m, dir.resolve("reference.safetensors"), true);
        assertTrue(r.pass(), name + " GGUF: loss_err " + r.lossErr() + " grads " + r.maxGradErr() + " missing " + r.missing());
    }
}
