package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jllm.doctor.ModelCompare;
import jllm.doctor.ReferenceCompare;
import jllm.doctor.variants.Setting;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Spec;
import jllm.tensor.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoctorVariantsTest {
    @TempDir
    Path tmp;

    private static Path fx(String p) { return CliTest.fixtures().resolve(p); }

    /** A reference file made by jllm itself running {@code dir} with one setting changed. */
    static Path plantedReference(Path dir, Setting setting, String value, Path out) {
        Model m = ModelLoader.load(dir, CpuBackend.reproducible(2), w -> { });
        Spec s = m.spec.copy();
        setting.apply(s, m.spec, value);
        int B = 2, T = 16;
        long[] ids = ModelCompare.randomIds(B, T, m.spec.vocab, 99);
        ReferenceCompare.Trace t = ReferenceCompare.Trace.of(new Model(s, m.weights, m.backend()), ids, B, T);
        SafetensorsWriter w = new SafetensorsWriter().addI64("input_ids", ids, B, T);
        for (int i = 0; i < t.hidden().length; i++) w.addF32(ReferenceCompare.Trace.name(i), t.hidden()[i], B, T, m.spec.hidden);
        w.addF32("logits", t.logits(), B, T, m.spec.vocab).write(out);
        return out;
    }

    @Test
    void variantsJsonRanksThePlantedVariantFirstAndDrawsAChart() throws Exception {
        Path ref = plantedReference(fx("hf/gemma2"), Setting.ACTIVATION, "gelu_exact", tmp.resolve("exact-gelu.safetensors"));
        Path svg = tmp.resolve("variants.svg");
        CliTest.Run r = CliTest.run("doctor", "compare", "--model", fx("hf/gemma2").toString(), "--reference", ref.toString(), "--variants", "--json",
                "--chart", svg.toString());
        assertEquals(1, r.code(), "a variant explains the reference better than config.json: " + r.out() + r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertTrue(r.err().contains("chart: "), "notes go to stderr when stdout is JSON");
        JsonNode variants = root.get("variants");
        JsonNode best = variants.get(0);
        assertEquals("gelu_exact", best.get("settings").get("activation").asText(), r.out());
        assertEquals(List.of("activation"), List.of(best.get("changed").get(0).asText()));
        assertEquals(0.0, best.get("max_rel_err").asDouble());
        for (String key : List.of("activation", "rope_precision", "norm_offset", "softmax_precision", "softcap"))
            assertTrue(best.get("settings").has(key), "setting " + key + " applies to Gemma 2: " + best.get("settings"));
        assertTrue(!best.get("settings").has("norm_upcast"), "norm_upcast only applies to low-precision runs");
        for (int i = 1; i < variants.size(); i++)
            assertTrue(variants.get(i).get("max_rel_err").asDouble() >= variants.get(i - 1).get("max_rel_err").asDouble(), "best first");
        assertEquals("fp32", root.get("precision").asText());
        assertTrue(Files.readString(svg).startsWith("<svg"));
        assertTrue(Files.readString(svg).contains("activation=gelu_exact"), "the legend names the variants");
    }

    @Test
    void theFixtureItselfRanksItsOwnSettingsFirst() {
        CliTest.Run r = CliTest.run("doctor", "compare", "--model", fx("hf/llama3").toString(), "--reference", fx("hf/llama3/reference.safetensors").toString(),
                "--variants");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("search: full product, 12 of 12 combinations run"), r.out());
        assertTrue(r.out().strip().endsWith("DEFAULT_BEST"), r.out());
        assertTrue(r.out().contains("   1 ") && r.out().contains("default"), r.out());
    }

    @Test
    void precisionsCompareLayerByLayer() throws Exception {
        Path png = tmp.resolve("precision.png");
        CliTest.Run r = CliTest.run("doctor", "compare", "--model", fx("hf/qwen3").toString(), "--precision", "bf16,fp16", "--tolerance", "0.1",
                "--chart", png.toString(), "--greedy-tokens", "4");
        assertEquals(0, r.code(), r.out() + r.err());
        int bf = r.out().indexOf("== bf16 vs fp32"), fp = r.out().indexOf("== fp16 vs fp32");
        assertTrue(bf >= 0 && fp > bf, r.out());
        double bfLogits = logitsErr(r.out().substring(bf, fp)), fpLogits = logitsErr(r.out().substring(fp));
        assertTrue(bfLogits > 3 * fpLogits && fpLogits > 0, "bf16 keeps 3 fewer mantissa bits than fp16: " + bfLogits + " vs " + fpLogits);
        assertTrue(Files.size(png) > 5000);
        CliTest.Run strict = CliTest.run("doctor", "compare", "--model", fx("hf/qwen3").toString(), "--precision", "bf16");
        assertEquals(1, strict.code(), "bf16 is not within the default 1e-5 of fp32");
    }

    private static double logitsErr(String table) {
        for (String line : table.split("\n")) if (line.startsWith("logits")) return Double.parseDouble(line.trim().split("\\s+")[2]);
        throw new AssertionError("no logits row in " + table);
    }

    @Test
    void badCombinationsAreRefused() {
        String m = fx("hf/qwen3").toString(), ref = fx("hf/qwen3/reference.safetensors").toString();
        assertEquals(2, CliTest.run("doctor", "compare", "--model", m, "--variants").code(), "--variants needs a reference");
        assertEquals(2, CliTest.run("doctor", "compare", "--model", m, "--reference", ref, "--json").code(), "--json is for --variants");
        assertEquals(2, CliTest.run("doctor", "compare", "--model", m, "--precision", "bf17").code());
        assertEquals(2, CliTest.run("doctor", "compare", "--model", m, "--reference", ref, "--variants", "--search", "random").code());
        assertEquals(2, CliTest.run("doctor", "compare", "--model", m, "--reference", ref, "--grads", "--precision", "bf16").code());
    }
}
