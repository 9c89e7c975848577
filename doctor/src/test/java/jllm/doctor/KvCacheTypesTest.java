package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.tensor.KvType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The f16 and Q8_0 KV caches against transformers' logits on every reference model: the whole
 * sequence run through the cache token by token (each step reads every earlier key and value
 * back from the cache's precision), logits within a bound of the fp32 reference. The measured
 * rel. L2 is printed (docs/quantization-and-speed.md quotes it). Models whose RoPE depends on the
 * sequence length (dynamic, longrope) are left out, as in {@link HfParityTest}'s incremental check.
 */
class KvCacheTypesTest {
    static java.util.stream.Stream<Path> models() throws java.io.IOException { return HfParityTest.models(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void compressedCachesStayCloseToTransformers(Path dir) {
        Model m = ModelLoader.load(dir, new CpuBackend(2), w -> { });
        for (var l : m.spec.layer)
            if (l.rope() != null && (l.rope().type.equals("dynamic") || l.rope().type.equals("longrope"))) return; // length-dependent by design
        // a router's top-k is a discrete choice: a cache's rounding can flip one and move those logits further
        boolean moe = java.util.Arrays.stream(m.spec.layer).anyMatch(l -> l.ffn() instanceof jllm.model.Spec.Moe);
        var ref = jllm.formats.safetensors.SafetensorsFile.open(dir.resolve("reference.safetensors"));
        long[] shape = ref.info("input_ids").shape();
        int T = (int) shape[1], V = m.spec.vocab;
        long[] ids = ref.longs("input_ids");
        float[] want = java.util.Arrays.copyOf(ref.tensor("logits").toFloatArray(), T * V);
        StringBuilder sb = new StringBuilder(dir.getFileName() + " (" + T + " tokens):");
        for (KvType type : KvType.values()) {
            m.kvType(type);
            Model.State st = m.newState();
            float[] got = new float[T * V];
            for (int t = 0; t < T; t++) System.arraycopy(m.forward(st, new int[] {(int) ids[t]}, true, null), 0, got, t * V, V);
            double rel = ReferenceCompare.row("logits", got, want).relL2();
            sb.append(String.format(" %s=%.2e", type, rel));
            double bound = switch (type) { case F32 -> 1e-5; case F16 -> 2e-3; case Q8_0 -> moe ? 1e-1 : 2e-2; };
            assertTrue(rel <= bound, dir.getFileName() + " " + type + " cache: logits rel L2 " + rel + " > " + bound);
        }
        m.kvType(KvType.F32);
        System.out.println(sb);
    }
}
