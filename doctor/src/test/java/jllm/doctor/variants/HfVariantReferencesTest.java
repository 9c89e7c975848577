package jllm.doctor.variants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.doctor.Fixtures;
import jllm.doctor.LowPrecision;
import jllm.doctor.ReferenceCompare;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.tensor.Precision;
import org.junit.jupiter.api.Test;

/**
 * The real check of {@code doctor compare --variants}: references transformers computed with a
 * known implementation variant (tools/hf-reference/make_variant_references.py writes
 * testdata/hf-variants). Every variant the manifest lists must be ranked first, with exactly its
 * listed settings changed from config.json's. Skipped when the folder is absent.
 */
class HfVariantReferencesTest {
    @Test
    void everyListedVariantIsRankedFirst() throws Exception {
        Path dir = Fixtures.testdata().resolve("hf-variants");
        assertTrue(Files.exists(dir.resolve("MANIFEST.json")), "no testdata/hf-variants (make it with tools/hf-reference/make_variant_references.py)");
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("MANIFEST.json").toFile());
        manifest.path("failed").fields().forEachRemaining(e -> System.out.println("generator failed " + e.getKey() + ": " + e.getValue().asText()));
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (JsonNode name : manifest.get("ok")) {
            JsonNode v = manifest.get("variants").get(name.asText());
            Map<String, String> want = new LinkedHashMap<>();
            v.get("settings").fields().forEachRemaining(e -> want.put(e.getKey(), e.getValue().asText()));
            Precision p = Precision.of(v.get("precision").asText());
            Path m = dir.resolve(name.asText());
            Model model = LowPrecision.hold(ModelLoader.load(m, CpuBackend.reproducible(2), w -> { }), p);
            ReferenceCompare.Expected expected = ReferenceCompare.Expected.read(SafetensorsFile.open(m.resolve("reference.safetensors")), model);
            VariantSearch.Result r = VariantSearch.run(model, expected, VariantSearch.Strategy.AUTO, null);
            System.out.println("== " + name.asText() + " (" + p.key + ", planted " + want + ")");
            System.out.print(VariantReport.table(r));
            VariantSearch.Variant best = r.best();
            boolean ok = Set.copyOf(best.changed()).equals(want.keySet());
            for (var e : want.entrySet()) ok &= e.getValue().equals(best.settings().get(e.getKey()));
            if (!ok) wrong.add(name.asText() + ": planted " + want + ", ranked first " + best.label() + " (" + best.maxRelErr() + ")");
            checked++;
        }
        assertTrue(checked > 0, "the manifest lists no variant");
        assertEquals(List.of(), wrong, "variants not ranked first");
    }
}
