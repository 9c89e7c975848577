package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The kernels keep to the Vector API calls whose type profile is their own ({@link Panels}' class
 * comment): {@code reinterpretAsX()} and {@code convert(conversion, part)} resolve their inner calls
 * with a profile every kernel of the process shares, and C2 then left whole kernels as Java fallbacks.
 */
class VectorApiUsageTest {
    private static final Pattern SHARED = Pattern.compile("\\.reinterpretAs(Bytes|Shorts|Ints|Longs|Floats|Doubles)\\(\\)|\\.convert\\((VectorOperators\\.)?[A-Z]2[A-Z]\\b");

    @Test
    void noKernelCallsTheSharedReinterpretOrConvert() throws IOException {
        Path src = Path.of("src/main/java/jllm/tensor");
        assertTrue(Files.isDirectory(src), "run from the tensor module: " + src.toAbsolutePath());
        List<String> hits = new ArrayList<>();
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).strip();
                    if (code.startsWith("*") || code.startsWith("//")) continue;  // comments may name them
                    if (SHARED.matcher(code).find()) hits.add(f.getFileName() + ":" + (i + 1) + ": " + code);
                }
            }
        }
        assertEquals(List.of(), hits, "use reinterpretShape(species, 0) / convertShape(conversion, species, 0)");
    }
}
