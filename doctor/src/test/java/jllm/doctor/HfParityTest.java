package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every reference model made by Hugging Face transformers — the shared fixtures and the extra
 * shapes in testdata/hf — must match hidden states and logits to 1e-5 relative L2 and reproduce
 * greedy generation exactly.
 */
class HfParityTest {
    /**
     * References whose generate.output comes from a transformers bug, with how many tokens are
     * right before it. phi3_longrope_partial: transformers 5.17's Phi3ForCausalLM.prepare_inputs_for_generation
     * drops the KV cache the first time the context exceeds original_max_position_embeddings
     * (to re-rotate keys with the long factors) but still feeds only the newest token, so from
     * then on generation sees a one-token context. jllm follows transformers' model forward with
     * a cache (checked on the device: the top-5 logits at that step, 14: 1.9085, 38: 1.7365,
     * 50: 1.6241, 112: 1.6055, 60: 1.5301, agree with transformers' own cached forward).
     */
    static final java.util.Map<String, Integer> KNOWN_GENERATE_BUGS = java.util.Map.of("phi3_longrope_partial", 9);

    static Stream<Path> models() throws IOException {
        Stream<Path> shared = dirs(Fixtures.root().resolve("hf"));
        Stream<Path> extra = dirs(Fixtures.testdata().resolve("hf"));
        return Stream.concat(shared, extra);
    }

    private static Stream<Path> dirs(Path root) throws IOException {
        if (!Files.isDirectory(root)) return Stream.empty();
        return Files.list(root).filter(p -> Files.exists(p.resolve("reference.safetensors"))).sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void matchesTransformers(Path dir) {
        Model m = ModelLoader.load(dir, new CpuBackend(2, true), w -> { });
        ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1e-5);
        StringBuilder sb = new StringBuilder(dir.getFileName() + ":");
        r.rows().forEach(row -> sb.append(String.format(" %s=%.2e", row.name(), row.relL2())));
        sb.append(" greedy=").append(r.greedy());
        System.out.println(sb);
        for (ReferenceCompare.Row row : r.rows())
            assertTrue(row.relL2() <= 1e-5, dir.getFileName() + " " + row.name() + " rel L2 " + row.relL2());
        incrementalDecodeMatchesReferenceLogits(dir, m);
        if (KNOWN_GENERATE_BUGS.containsKey(dir.getFileName().toString())) {
            int upTo = KNOWN_GENERATE_BUGS.get(dir.getFileName().toString());
            assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOf(r.expected(), upTo)),
                    java.util.Arrays.toString(java.util.Arrays.copyOf(r.got(), upTo)), dir.getFileName() + " greedy before the divergence");
            return;
        }
        assertEquals("match", r.greedy(), dir.getFileName() + " greedy: expected " + java.util.Arrays.toString(r.expected())
                + " got " + java.util.Arrays.toString(r.got()));
    }

    /**
     * The same sequence fed through the KV cache in uneven pieces (prefill, single-token decode
     * steps, another batch) must reproduce the reference's one-shot logits at every position:
     * this checks cached attention, masks and positions at other lengths against transformers.
     */
    private static void incrementalDecodeMatchesReferenceLogits(Path dir, Model m) {
        for (var l : m.spec.layer)
            if (l.rope() != null && (l.rope().type.equals("dynamic") || l.rope().type.equals("longrope"))) return; // length-dependent by design
        var ref = jllm.formats.safetensors.SafetensorsFile.open(dir.resolve("reference.safetensors"));
        long[] shape = ref.info("input_ids").shape();
        int T = (int) shape[1], V = m.spec.vocab;
        long[] ids = ref.longs("input_ids");
        float[] want = ref.tensor("logits").toFloatArray();
        int[] pieces = {3, 1, 1, 7, 1};
        for (int b = 0; b < shape[0]; b++) {
            Model.State st = m.newState();
            float[] got = new float[T * V];
            int t = 0, k = 0;
            while (t < T) {
                int n = Math.min(T - t, k < pieces.length ? pieces[k++] : T);
                int[] chunk = new int[n];
                for (int i = 0; i < n; i++) chunk[i] = (int) ids[b * T + t + i];
                System.arraycopy(m.forward(st, chunk, true, null), 0, got, t * V, n * V);
                t += n;
            }
            float[] w = java.util.Arrays.copyOfRange(want, b * T * V, (b + 1) * T * V);
            double rel = ReferenceCompare.row("logits", got, w).relL2();
            assertTrue(rel <= 1e-5, dir.getFileName() + " incremental logits, sequence " + b + ": rel L2 " + rel);
        }
    }
}
