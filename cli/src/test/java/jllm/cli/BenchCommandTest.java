package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void benchOfARandomPresetEndsWithTheMachineReadableLine() {
        CliTest.Run r = CliTest.run("bench", "--preset", "tiny-llama", "--type", "q4_0", "--threads", "2", "--prompt", "9", "--gen", "3", "--reps", "1", "--warmup", "0");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("pp_tok_s=[0-9.]+ tg_tok_s=[0-9.]+"), lines[lines.length - 1]);
        assertTrue(r.out().contains("peak RSS"), r.out());
    }

    @Test
    void badArgumentsGetOneClearLine() {
        assertEquals(2, CliTest.run("bench", "--preset", "tiny-llama", "--type", "q9_9").code());
        assertTrue(CliTest.run("bench", "--preset", "nope").err().contains("unknown preset"));
        assertTrue(CliTest.run("bench").err().contains("exactly one of --model or --preset"));
    }

    @Test
    void kernelBenchReportsEveryTypeAgainstTheMachinesCeilings() {
        CliTest.Run r = CliTest.run("bench", "kernels", "--threads", "2", "--rows", "64", "--cols", "256", "--tokens", "40",
                "--seconds", "0.02", "--stream-mib", "8", "--types", "f16,q8_0,q4_k");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("read_gb_s=[0-9.]+ fma_gmac_s=[0-9.]+"), lines[lines.length - 1]);
        for (String t : new String[] {"f16", "q8_0", "q4_k"}) assertTrue(r.out().contains("\n" + t + " "), r.out());
        assertTrue(CliTest.run("bench", "kernels", "--cols", "100").err().contains("multiple of 256"));
    }
}
