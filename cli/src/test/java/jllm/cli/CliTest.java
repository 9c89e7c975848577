package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CliTest {
    static Path fixtures() {
        return jllm.testkit.Fixtures.root();
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            var cl = Main.commandLine();
            cl.setOut(new java.io.PrintWriter(System.out, true));
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void llama2cGreedyMatchesRunC() throws Exception {
        Run r = run("generate", "--model", fixtures().resolve("llama2c/stories260K.bin").toString(), "--prompt-ids", "1",
                "--max-tokens", "256", "--temperature", "0", "--print-ids", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        String want = Files.readString(fixtures().resolve("llama2c/stories260K.greedy-ids.txt")).trim();
        assertEquals(want, r.out().trim());
    }

    @Test
    void doctorComparePassesAndFailsWithTheSpecifiedLastLine() {
        Path dir = fixtures().resolve("hf/qwen3");
        Run ok = run("doctor", "compare", "--model", dir.toString(), "--reference", dir.resolve("reference.safetensors").toString());
        assertEquals(0, ok.code(), ok.err());
        String[] lines = ok.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("RESULT max_rel_err=\\S+ greedy=match PASS"), lines[lines.length - 1]);
        assertTrue(ok.out().contains("hidden.2") && ok.out().contains("logits"));
        Run bad = run("doctor", "compare", "--model", dir.toString(), "--reference", dir.resolve("reference.safetensors").toString(), "--tolerance", "1e-12");
        assertEquals(1, bad.code());
        lines = bad.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("RESULT max_rel_err=\\S+ greedy=match FAIL"), lines[lines.length - 1]);
    }

    @Test
    void doctorCompareDrawsTheErrorChart(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = fixtures().resolve("hf/gemma2");
        Path svg = tmp.resolve("err.svg");
        Run ok = run("doctor", "compare", "--model", dir.toString(), "--reference", dir.resolve("reference.safetensors").toString(), "--chart", svg.toString());
        assertEquals(0, ok.code(), ok.err());
        String s = Files.readString(svg);
        assertTrue(s.startsWith("<svg") && s.contains("hidden.4") && s.contains("logits") && s.contains("tolerance"), s);
    }

    @Test
    void doctorCompareCatchesAWrongModel() {
        // llama3 weights against the llama2 reference: same shapes, different numbers
        Run r = run("doctor", "compare", "--model", fixtures().resolve("hf/llama3").toString(),
                "--reference", fixtures().resolve("hf/llama2/reference.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.out().strip().endsWith("FAIL"), r.out());
    }

    @Test
    void badInputIsOneClearLine() {
        Run r = run("generate", "--model", "/nonexistent/model", "--prompt-ids", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("no such file"), r.err());
    }
}
