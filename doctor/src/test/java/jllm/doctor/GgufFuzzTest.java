package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import jllm.formats.FormatException;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated GGUF models (flipped bytes, truncation, extreme 32/64-bit fields) either load and run or
 * fail with the project's FormatException: never another exception type, a hang or an OOM.
 */
class GgufFuzzTest {
    @TempDir
    Path tmp;

    @Test
    void mutatedFilesFailCleanly() throws Exception {
        Path good = tmp.resolve("good.gguf");
        GgufConverter.convert(Fixtures.root().resolve("hf/qwen3"), good, GgufConverter.FileType.Q8_0, w -> { }, s -> { });
        byte[] orig = Files.readAllBytes(good);
        // Most of the file is tensor data; bias mutations toward the header and tensor infos where structure lives.
        int headerEnd = 4096;
        Random rnd = new Random(20261123);
        int cases = Integer.getInteger("jllm.fuzz.cases", 400), loaded = 0, rejected = 0;
        for (int c = 0; c < cases; c++) {
            byte[] b = orig.clone();
            int kind = rnd.nextInt(4);
            int at = rnd.nextInt(10) < 8 ? rnd.nextInt(Math.min(headerEnd, b.length)) : rnd.nextInt(b.length);
            switch (kind) {
                case 0 -> { for (int i = 0; i < 1 + rnd.nextInt(4); i++) b[Math.min(b.length - 1, at + i)] ^= (byte) (1 << rnd.nextInt(8)); }
                case 1 -> b = java.util.Arrays.copyOf(b, at);
                case 2 -> { long v = switch (rnd.nextInt(4)) { case 0 -> -1L; case 1 -> Long.MAX_VALUE; case 2 -> 1L << 40; default -> rnd.nextLong(); };
                            for (int i = 0; i < 8 && at + i < b.length; i++) b[at + i] = (byte) (v >>> (8 * i)); }
                default -> { int v = rnd.nextBoolean() ? Integer.MAX_VALUE : rnd.nextInt(); for (int i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (byte) (v >>> (8 * i)); }
            }
            Path p = tmp.resolve("m" + c + ".gguf");
            Files.write(p, b);
            final int caseNo = c;
            boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try {
                    Model m = ModelLoader.load(p, new CpuBackend(1), w -> { });
                    m.forward(m.newState(), new int[] {1, 2, 3}, false, null);
                    try {
                        jllm.tokenizer.Tokenizer.load(p);
                    } catch (FormatException e) {
                        // a model without a tokenizer is fine
                    }
                    return true;
                } catch (FormatException e) {
                    return false;
                } catch (Throwable t) {
                    fail("case " + caseNo + " (mutation " + kind + " at " + at + "): " + t, t);
                    return false;
                }
            }, "case " + c + " hung");
            if (ok) loaded++; else rejected++;
            Files.delete(p);
        }
        System.out.printf("gguf fuzz: %d cases, %d loaded and ran, %d rejected with FormatException%n", cases, loaded, rejected);
    }
}
