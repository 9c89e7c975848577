package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.formats.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training engine's loss and every parameter gradient against transformers' (the fixtures'
 * {@code loss} and {@code grad.*}): loss to 1e-5 relative, each gradient to 1e-4 relative L2.
 */
class GradParityTest {
    static Stream<Path> models() throws IOException {
        return Stream.concat(withGrads(Fixtures.root().resolve("hf")), withGrads(Fixtures.testdata().resolve("hf")));
    }

    private static Stream<Path> withGrads(Path root) throws IOException {
        if (!Files.isDirectory(root)) return Stream.empty();
        return Files.list(root).filter(p -> Files.exists(p.resolve("reference.safetensors"))).sorted()
                .filter(p -> SafetensorsFile.open(p.resolve("reference.safetensors")).names().stream().anyMatch(n -> n.startsWith("grad.")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void gradientsMatchTransformers(Path dir) {
        Model m = ModelLoader.load(dir, CpuBackend.reproducible(2), w -> { });
        GradCompare.Result r = GradCompare.run(m, dir.resolve("reference.safetensors"), false);
        String worst = r.rows().stream().max(java.util.Comparator.comparingDouble(ReferenceCompare.Row::relL2)).map(ReferenceCompare.Row::name).orElse("-");
        System.out.printf("%s: loss=%.6f ref=%.6f loss_err=%.2e grads=%.2e (%d tensors, worst %s) missing=%s%n", dir.getFileName(), r.loss(), r.refLoss(),
                r.lossErr(), r.maxGradErr(), r.rows().size(), worst, r.missing());
        assertTrue(r.missing().isEmpty(), dir.getFileName() + " gradients missing: " + r.missing());
        assertTrue(r.lossErr() <= GradCompare.LOSS_TOLERANCE, dir.getFileName() + " loss " + r.loss() + " vs " + r.refLoss());
        for (ReferenceCompare.Row row : r.rows())
            assertTrue(row.relL2() <= GradCompare.GRAD_TOLERANCE, dir.getFileName() + " grad." + row.name() + " rel L2 " + row.relL2());
    }
}
