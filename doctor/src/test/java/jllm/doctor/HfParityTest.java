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
        Model m = ModelLoader.load(dir, new CpuBackend(2), w -> { });
        ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1e-5);
        StringBuilder sb = new StringBuilder(dir.getFileName() + ":");
        r.rows().forEach(row -> sb.append(String.format(" %s=%.2e", row.name(), row.relL2())));
        sb.append(" greedy=").append(r.greedy());
        System.out.println(sb);
        for (ReferenceCompare.Row row : r.rows())
            assertTrue(row.relL2() <= 1e-5, dir.getFileName() + " " + row.name() + " rel L2 " + row.relL2());
        assertEquals("match", r.greedy(), dir.getFileName() + " greedy: expected " + java.util.Arrays.toString(r.expected())
                + " got " + java.util.Arrays.toString(r.got()));
    }
}
