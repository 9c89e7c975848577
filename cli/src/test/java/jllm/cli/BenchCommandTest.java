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
        assertTrue(r.out().contains("\ncpu       ") && r.out().contains("-bit vectors"), "bench names the CPU: " + r.out());
    }

    @Test
    void badArgumentsGetOneClearLine() {
        assertEquals(2, CliTest.run("bench", "--preset", "tiny-llama", "--type", "q9_9").code());
        assertTrue(CliTest.run("bench", "--preset", "nope").err().contains("unknown preset"));
        assertTrue(CliTest.run("bench").err().contains("exactly one of --model or --preset"));
    }

    @Test
    void trainBenchOnAFixtureEndsWithTheMachineReadableLine() {
        String model = CliTest.fixtures().resolve("hf/llama3").toString();
        CliTest.Run r = CliTest.run("bench", "train", "--model", model, "--seq", "24", "--steps", "2", "--warmup", "0", "--threads", "2", "--lora-r", "4");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("train_tok_s=[0-9.]+ peak_rss_mb=[0-9]+"), lines[lines.length - 1]);
        assertTrue(r.out().contains("layers keep their q/k/v/gate/up outputs"), r.out());
        assertTrue(r.out().contains("tokens per CPU-second"), r.out());
    }

    @Test
    void trainBenchRefusesBadHyperparametersInOneLine() {
        String model = CliTest.fixtures().resolve("hf/llama3").toString();
        CliTest.Run r0 = CliTest.run("bench", "train", "--model", model, "--lora-r", "0");
        assertEquals(2, r0.code());
        assertEquals("error: LoRA: rank r must be an integer >= 1, got 0", r0.err().strip());
        CliTest.Run ra = CliTest.run("bench", "train", "--model", model, "--lora-alpha", "-1");
        assertEquals(2, ra.code());
        assertEquals("error: LoRA: alpha must be a finite number > 0, got -1", ra.err().strip());
        CliTest.Run rt = CliTest.run("bench", "train", "--model", model, "--lora-targets", "q_prj");
        assertEquals(2, rt.code());
        assertEquals("error: LoRA: unknown target module 'q_prj'; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or all-linear",
                rt.err().strip());
        assertEquals(2, CliTest.run("bench", "train", "--model", model, "--checkpoint-keep", "-1").code());
    }

    @Test
    void kernelBenchReportsEveryTypeAgainstTheMachinesCeilings() {
        CliTest.Run r = CliTest.run("bench", "kernels", "--threads", "2", "--rows", "64", "--cols", "256", "--tokens", "40",
                "--seconds", "0.02", "--stream-mib", "8", "--types", "f16,q8_0,q4_k");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("read_gb_s=[0-9.]+ fma_gmac_s=[0-9.]+"), lines[lines.length - 1]);
        // per type: decode Gw/s, its GB/s, the read probe's GB/s timed in alternation with it, the share, prefill, its share
        for (String t : new String[] {"f16", "q8_0", "q4_k"})
            assertTrue(java.util.regex.Pattern.compile("\n" + t + " +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+% +[0-9.]+ +[0-9]+%\n").matcher(r.out()).find(), r.out());
        assertTrue(CliTest.run("bench", "kernels", "--cols", "100").err().contains("multiple of 256"));
        // several rounds: the median round's columns, then the range of the rounds' shares
        CliTest.Run rr = CliTest.run("bench", "kernels", "--threads", "1", "--rows", "64", "--cols", "256", "--tokens", "4",
                "--seconds", "0.01", "--stream-mib", "4", "--types", "q8_0,q4_0", "--rounds", "3");
        assertEquals(0, rr.code(), rr.err());
        for (String t : new String[] {"q8_0", "q4_0"})
            assertTrue(java.util.regex.Pattern.compile("\n" + t + " +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+% +[0-9.]+ +[0-9]+% +shares [0-9]+-[0-9]+% over 3 rounds\n")
                    .matcher(rr.out()).find(), rr.out());
        assertTrue(CliTest.run("bench", "kernels", "--rounds", "0").err().contains("--rounds 1..100"));
        assertTrue(CliTest.run("bench", "kernels", "--stream-mib", "0").err().contains("--stream-mib 1..65536"));
        // three streams of 64 GiB would not fit: refused before anything is allocated
        long memory = BenchKernelsCommand.memoryBytes();
        if (memory > 0 && memory < 256L << 30)
            assertTrue(CliTest.run("bench", "kernels", "--stream-mib", "65536").err().contains("of memory"));
        // streams well above the largest cache by default
        assertEquals(512, BenchKernelsCommand.defaultStreamMib(0, 0));
        assertEquals(512, BenchKernelsCommand.defaultStreamMib(32L << 20, 24L << 30));
        assertEquals(1920, BenchKernelsCommand.defaultStreamMib(480L << 20, 24L << 30));
        assertEquals(1 << 16, BenchKernelsCommand.defaultStreamMib(1L << 50, 0));
        // an eighth of the memory at most: a run holds three streams at once
        assertEquals(1024, BenchKernelsCommand.defaultStreamMib(480L << 20, 8L << 30));
        assertEquals(256, BenchKernelsCommand.defaultStreamMib(0, 2L << 30));
    }
}
