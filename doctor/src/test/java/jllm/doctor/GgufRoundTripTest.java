package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import jllm.model.Config;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.gguf.GgufConfig;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HF checkpoints converted to GGUF (llama.cpp's names, Q/K permutation, Gemma norm +1, stacked
 * experts, rope_freqs) and loaded back must give the transformers reference again: exactly (to fp32
 * round-off) for F32, within a per-type bound for quantized types.
 */
class GgufRoundTripTest {
    @TempDir
    static Path tmp;

    /** Logits rel L2 of int8 activations against exact on these tiny models (measured 1.5-1.6e-2 for every quantized type). */
    static final double INT8_BOUND = 0.025;

    static Stream<Path> convertible() throws IOException {
        return Stream.concat(HfParityTest.models(), Stream.empty()).filter(p -> {
            String t = Config.read(p.resolve("config.json")).str("model_type", "");
            return GgufConfig.GGUF_ARCH.containsKey(t) && !p.getFileName().toString().contains("dynamic");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convertible")
    void f32GgufMatchesTransformers(Path dir) {
        Path out = tmp.resolve(dir.getFileName() + ".gguf");
        GgufConverter.convert(dir, out, GgufConverter.FileType.F32, w -> { }, s -> { });
        Model m = ModelLoader.load(out, new CpuBackend(2, true), w -> { });
        ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1e-5);
        System.out.printf("%s gguf f32: max rel %.2e greedy %s%n", dir.getFileName(), r.maxRel(), r.greedy());
        assertTrue(r.maxRel() <= 1e-5, dir.getFileName() + " rel " + r.maxRel());
        if (!HfParityTest.KNOWN_GENERATE_BUGS.containsKey(dir.getFileName().toString())) assertEquals("match", r.greedy());
    }

    /**
     * Each quantized type against transformers (exact mode: fp32 activations), within what the type's
     * rounding predicts for this tiny random model, and the int8-activation path (the default) against
     * the exact one on the same file: that difference is the cost of quantizing activations.
     */
    @Test
    void quantizedTypesStayCloseAndReportTheirError() {
        // A tiny random model has no redundancy, so 4-bit noise shows up almost undamped in its logits;
        // the bounds are what each type's rounding error predicts for it, not what a trained model sees.
        Path dir = Fixtures.root().resolve("hf/llama3");
        double[] bound = {0, 3e-3, 1e-2, 3e-2, 0.4, 0.4, 0.2, 0.2};
        // int8 activations against exact, per type: fp32 round-off for the float types (they keep fp32
        // activations; the fast kernels may sum in another order than exact mode: 1.4-2.9e-7 seen), and for the quantized ones what rounding x to 8 bits per 32 values costs this
        // model: 1.5-1.6e-2 measured for every type (the weights' own rounding does not enter), about
        // what llama.cpp's q8_0 activations cost it (LlamaCppActivationErrorTest compares the two on a 1B model)
        double[] int8Bound = {1e-6, 1e-6, 1e-6, INT8_BOUND, INT8_BOUND, INT8_BOUND, INT8_BOUND, INT8_BOUND};
        GgufConverter.FileType[] types = {GgufConverter.FileType.F32, GgufConverter.FileType.F16, GgufConverter.FileType.BF16,
                GgufConverter.FileType.Q8_0, GgufConverter.FileType.Q4_0, GgufConverter.FileType.Q4_1, GgufConverter.FileType.Q5_0,
                GgufConverter.FileType.Q5_1};
        int[] ids = firstInput(dir.resolve("reference.safetensors"));
        for (int i = 0; i < types.length; i++) {
            Path out = tmp.resolve("llama3-" + types[i] + ".gguf");
            GgufConverter.convert(dir, out, types[i], w -> { }, s -> { });
            Model exact = ModelLoader.load(out, new CpuBackend(2, true), w -> { });
            ReferenceCompare.Result r = ReferenceCompare.run(exact, dir.resolve("reference.safetensors"), 1);
            double logits = r.rows().get(r.rows().size() - 1).relL2();
            Model fast = ModelLoader.load(out, new CpuBackend(2), w -> { });
            double int8 = relL2(logits(fast, ids), logits(exact, ids));
            // prefill: Q4_0 and Q4_1 (and Q4_K) run int8 activations through the 16-bit tile from 16 tokens on
            assertTrue(ids.length >= 16, "the reference input is long enough for the prefill kernels: " + ids.length);
            double prefill = relL2(prefillLogits(fast, ids), prefillLogits(exact, ids));
            System.out.printf("llama3 %s: logits rel L2 vs transformers %.3e (exact), int8 activations vs exact %.3e (decode), %.3e (prefill), greedy %s%n",
                    types[i], logits, int8, prefill, r.greedy());
            assertTrue(logits <= Math.max(bound[i], 1e-5), types[i] + " logits rel " + logits);
            assertTrue(int8 <= int8Bound[i], types[i] + " int8 vs exact " + int8 + ", bound " + int8Bound[i]);
            assertTrue(prefill <= int8Bound[i], types[i] + " fast prefill vs exact " + prefill + ", bound " + int8Bound[i]);
        }
    }

    /**
     * The K-quant mixes at a shape where K-quants apply (rows of 256 and 512 values; the fixtures'
     * hidden size of 64 makes the converter fall back to Q8_0), on random weights of the tiny-llama
     * preset: every matrix must really be stored as Q4_K/Q5_K/Q6_K, and the logits stay within what
     * 4- and 5-bit rounding predicts of the same model stored as F32 (which the tests above check
     * against transformers), in exact mode and with int8 activations.
     */
    @Test
    void kQuantMixesApplyAndStayClose() throws IOException {
        Config c = jllm.model.Presets.config("tiny-llama");
        jllm.model.RandomWeights rw = new jllm.model.RandomWeights(c, jllm.tensor.GgmlType.F32, 5, 2);
        // 17 tokens: prefill of 16 or more runs Q4_K's 16-bit tile
        int[] ids = {1, 5, 9, 17, 33, 2, 60, 7, 80, 11, 3, 42, 19, 71, 4, 25, 8};
        Map<GgufConverter.FileType, Path> files = new java.util.LinkedHashMap<>();
        for (GgufConverter.FileType ft : new GgufConverter.FileType[] {GgufConverter.FileType.F32, GgufConverter.FileType.Q4_K_M,
                GgufConverter.FileType.Q5_K_M, GgufConverter.FileType.Q6_K}) {
            jllm.formats.gguf.GgufWriter w = new jllm.formats.gguf.GgufWriter();
            GgufConverter.addModel(w, c, rw, ft, "tiny", s -> { });
            GgufConverter.finishMetadata(w, c);
            Path out = tmp.resolve("tiny-" + ft + ".gguf");
            w.write(out);
            files.put(ft, out);
        }
        float[] ref = logits(ModelLoader.load(files.get(GgufConverter.FileType.F32), new CpuBackend(2, true), w -> { }), ids);
        double[] bound = {1e-6, 0.3, 0.15, 0.08};
        int i = 0;
        for (var e : files.entrySet()) {
            java.util.Set<String> types = new java.util.TreeSet<>();
            try (jllm.formats.gguf.GgufFile f = jllm.formats.gguf.GgufFile.open(e.getValue())) {
                for (var t : f.tensors()) if (t.dims().length == 2) types.add(jllm.tensor.GgmlType.fromId(t.ggmlType()).name());
            }
            float[] exactLogits = logits(ModelLoader.load(e.getValue(), new CpuBackend(2, true), w -> { }), ids);
            Model fast = ModelLoader.load(e.getValue(), new CpuBackend(2), w -> { });
            float[] int8Logits = logits(fast, ids);
            double exact = relL2(exactLogits, ref), int8 = relL2(int8Logits, ref), act = relL2(int8Logits, exactLogits);
            double prefill = relL2(prefillLogits(fast, ids), exactLogits);
            System.out.printf("tiny-llama %s %s: logits rel L2 vs F32 %.3e (exact), %.3e (int8 activations); int8 vs exact %.3e (decode), %.3e (prefill)%n",
                    e.getKey(), types, exact, int8, act, prefill);
            if (e.getKey() != GgufConverter.FileType.F32)
                assertTrue(types.stream().allMatch(t -> t.endsWith("_K")), e.getKey() + " stored as " + types);
            double actBound = e.getKey() == GgufConverter.FileType.F32 ? 0 : INT8_BOUND;
            assertTrue(exact <= bound[i] && int8 <= bound[i] && act <= actBound, e.getKey() + " rel " + exact + " / " + int8 + " / " + act);
            // exact decode and exact prefill differ only in summation order (F32: fp32 round-off; 1.02e-6
            // with 256-bit vectors on an AVX2-only AMD EPYC, where the partial sums are 8 lanes wide)
            assertTrue(prefill <= Math.max(actBound, 4e-6), e.getKey() + " fast prefill vs exact " + prefill);
            i++;
        }
    }

    /** Row 0 of a reference's {@code input_ids [batch, T]}. */
    static int[] firstInput(Path reference) {
        jllm.formats.safetensors.SafetensorsFile f = jllm.formats.safetensors.SafetensorsFile.open(reference);
        int T = (int) f.info("input_ids").shape()[1];
        long[] all = f.longs("input_ids");
        int[] ids = new int[T];
        for (int t = 0; t < T; t++) ids[t] = Math.toIntExact(all[t]);
        return ids;
    }

    /** The logits after each of {@code ids}, fed one token at a time as decoding does (int8 activations for every quantized type in fast mode). */
    static float[] logits(Model m, int[] ids) {
        Model.State st = m.newState();
        float[] all = new float[ids.length * m.spec.vocab];
        for (int t = 0; t < ids.length; t++) System.arraycopy(m.forward(st, new int[] {ids[t]}, false, null), 0, all, t * m.spec.vocab, m.spec.vocab);
        return all;
    }

    /** The logits after each of {@code ids} from one prefill (fast mode: int8 activations for the formats with a 16-bit prefill tile, fp32 for the rest). */
    static float[] prefillLogits(Model m, int[] ids) { return m.forward(m.newState(), ids, true, null); }

    static double relL2(float[] a, float[] b) {
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) { d += (a[i] - (double) b[i]) * (a[i] - (double) b[i]); n += (double) b[i] * b[i]; }
        return Math.sqrt(d / n);
    }
}
