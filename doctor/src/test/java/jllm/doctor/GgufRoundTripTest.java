package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        Model m = ModelLoader.load(out, new CpuBackend(2), w -> { });
        ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1e-5);
        System.out.printf("%s gguf f32: max rel %.2e greedy %s%n", dir.getFileName(), r.maxRel(), r.greedy());
        assertTrue(r.maxRel() <= 1e-5, dir.getFileName() + " rel " + r.maxRel());
        if (!HfParityTest.KNOWN_GENERATE_BUGS.containsKey(dir.getFileName().toString())) assertEquals("match", r.greedy());
    }

    @Test
    void quantizedTypesStayCloseAndReportTheirError() {
        // A tiny random model has no redundancy, so 4-bit noise shows up almost undamped in its logits;
        // the bounds are what each type's rounding error predicts for it, not what a trained model sees.
        Path dir = Fixtures.root().resolve("hf/llama3");
        double[] bound = {0, 3e-3, 1e-2, 3e-2, 0.4, 0.4, 0.2, 0.2, 0.1};
        GgufConverter.FileType[] types = {GgufConverter.FileType.F32, GgufConverter.FileType.F16, GgufConverter.FileType.BF16,
                GgufConverter.FileType.Q8_0, GgufConverter.FileType.Q4_0, GgufConverter.FileType.Q4_1, GgufConverter.FileType.Q5_0,
                GgufConverter.FileType.Q5_1, GgufConverter.FileType.Q4_K_M};
        for (int i = 0; i < types.length; i++) {
            Path out = tmp.resolve("llama3-" + types[i] + ".gguf");
            GgufConverter.convert(dir, out, types[i], w -> { }, s -> { });
            Model m = ModelLoader.load(out, new CpuBackend(2), w -> { });
            ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1);
            double logits = r.rows().get(r.rows().size() - 1).relL2();
            System.out.printf("llama3 %s: logits rel L2 %.3e, greedy %s%n", types[i], logits, r.greedy());
            assertTrue(logits <= Math.max(bound[i], 1e-5), types[i] + " logits rel " + logits);
        }
    }
}
