package jllm.doctor.variants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import jllm.doctor.Fixtures;
import jllm.doctor.LowPrecision;
import jllm.doctor.ModelCompare;
import jllm.doctor.ReferenceCompare;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Spec;
import jllm.tensor.CpuBackend;
import jllm.tensor.Precision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Self-consistency of {@code doctor compare --variants}: jllm itself, with a known variant toggled,
 * makes the reference trace; the search must rank exactly that variant first. (The references
 * transformers made with known variants, testdata/hf-variants, are checked by
 * {@link HfVariantReferencesTest}.)
 */
class VariantSearchTest {
    static Model load(String dir, Precision p) {
        Path path = dir.startsWith("testdata/") ? Fixtures.testdata().resolve(dir.substring("testdata/".length())) : Fixtures.root().resolve(dir);
        return LowPrecision.hold(ModelLoader.load(path, CpuBackend.reproducible(2), w -> { }), p);
    }

    /** A reference trace of {@code model} run with {@code planted} ("key=value;key=value") on seeded ids. */
    static ReferenceCompare.Expected plantedReference(Model model, Map<String, String> planted, int batch, int T) {
        Spec s = model.spec.copy();
        planted.forEach((k, v) -> Setting.of(k).apply(s, model.spec, v));
        Model variant = new Model(s, model.weights, model.backend());
        long[] ids = ModelCompare.randomIds(batch, T, model.spec.vocab, 17);
        ReferenceCompare.Trace t = ReferenceCompare.Trace.of(variant, ids, batch, T);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (int i = 0; i < t.hidden().length; i++) tensors.put(ReferenceCompare.Trace.name(i), t.hidden()[i]);
        tensors.put("logits", t.logits());
        return new ReferenceCompare.Expected(ids, batch, T, tensors);
    }

    static Map<String, String> parse(String settings) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : settings.split(";")) m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        return m;
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "hf/gemma2 | fp32 | activation=gelu_exact",
            "hf/gemma2 | fp32 | softcap=off",
            "hf/gemma2 | fp32 | activation=gelu_exact;softcap=off",
            "hf/llama3 | fp32 | rope_precision=bf16",
            "hf/llama3 | fp32 | softmax_precision=bf16",
            "hf/gemma | fp32 | norm_offset=w",
            "hf/qwen3 | fp32 | norm_offset=one_plus_w;rope_precision=fp16",
            "hf/gemma | bf16 | norm_upcast=after_weight",
            "hf/llama3 | bf16 | rope_precision=bf16",
            "hf/olmo2 | fp16 | norm_upcast=after_weight",
            "testdata/hf/gemma2_sw4 | bf16 | embed_scale_precision=fp32",
            "testdata/hf/gemma3_7l_linear | bf16 | activation=gelu_exact;embed_scale_precision=fp32;softmax_precision=bf16",
    })
    void thePlantedVariantRanksFirst(String dir, String precision, String planted) {
        Model m = load(dir, Precision.of(precision));
        Map<String, String> want = parse(planted);
        VariantSearch.Result r = VariantSearch.run(m, plantedReference(m, want, 2, 20), VariantSearch.Strategy.AUTO, null);
        VariantSearch.Variant best = r.best();
        System.out.printf("%s %s planted %s: best %s (%.2e), %d of %d run (%s)%n", dir, precision, planted, best.label(), best.maxRelErr(),
                r.ranked().size(), r.combinations(), r.strategy());
        want.forEach((k, v) -> assertEquals(v, best.settings().get(k), k + " in " + best.settings()));
        assertEquals(want.keySet(), java.util.Set.copyOf(best.changed()), "only the planted settings differ from the model's own");
        assertEquals(0.0, best.maxRelErr(), "the planted variant reproduces its own trace exactly");
        assertTrue(r.ranked().get(1).maxRelErr() > 0, "the runner-up differs");
    }
}
