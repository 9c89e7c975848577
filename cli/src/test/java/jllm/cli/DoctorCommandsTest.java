package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoctorCommandsTest {
    @TempDir
    Path tmp;

    private static Path fx(String p) { return CliTest.fixtures().resolve(p); }

    @Test
    void lintJsonAndExitStatus() throws Exception {
        CliTest.Run ok = CliTest.run("doctor", "lint", fx("hf/phi3").toString(), "--json");
        assertEquals(0, ok.code(), ok.err());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ok.out());
        assertTrue(root.get("findings").toString().contains("\"code\":\"fused-projections\""), ok.out());
        // a planted error: vocab_size that does not match the embedding
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        for (String f : new String[] {"generation_config.json", "model.safetensors"}) Files.copy(fx("hf/llama2/" + f), dir.resolve(f));
        Files.writeString(dir.resolve("config.json"), Files.readString(fx("hf/llama2/config.json")).replace("\"vocab_size\": 384", "\"vocab_size\": 400"));
        Path html = tmp.resolve("lint.html");
        CliTest.Run bad = CliTest.run("doctor", "lint", dir.toString(), "--html", html.toString());
        assertEquals(1, bad.code(), bad.out() + bad.err());
        assertTrue(bad.out().contains("error   vocab-size-mismatch"), bad.out());
        assertTrue(Files.readString(html).contains("vocab-size-mismatch"));
        assertEquals(2, CliTest.run("doctor", "lint", "/nonexistent/model").code());
    }

    @Test
    void compareTwoFormatsDrawsAPngChartAndAnHtmlReport() throws Exception {
        Path gguf = tmp.resolve("llama3.gguf"), png = tmp.resolve("err.png"), html = tmp.resolve("cmp.html");
        assertEquals(0, CliTest.run("convert", fx("hf/llama3").toString(), "--to", gguf.toString(), "--type", "f32").code());
        CliTest.Run r = CliTest.run("doctor", "compare", "--model", fx("hf/llama3").toString(), "--against", gguf.toString(),
                "--reference", fx("hf/llama3/reference.safetensors").toString(), "--chart", png.toString(), "--html", html.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("RESULT max_rel_err=\\S+ greedy=match PASS"), r.out());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(960, img.getWidth());
        String h = Files.readString(html);
        assertTrue(h.startsWith("<!DOCTYPE html>") && h.contains("<svg") && h.contains("hidden.1") && h.contains("RESULT"));
        // random ids when there is no reference
        CliTest.Run rnd = CliTest.run("doctor", "compare", "--model", fx("hf/qwen3").toString(), "--against", fx("hf/qwen3").toString());
        assertEquals(0, rnd.code(), rnd.err());
        assertTrue(rnd.out().strip().endsWith("RESULT max_rel_err=0.000e+00 greedy=match PASS"), rnd.out());
        assertEquals(2, CliTest.run("doctor", "compare", "--model", fx("hf/qwen3").toString()).code());
    }

    @Test
    void numericsAndTokensWriteReports() throws Exception {
        Path html = tmp.resolve("num.html"), svg = tmp.resolve("rope.svg");
        CliTest.Run n = CliTest.run("doctor", "numerics", "--count", "4096", "--html", html.toString(), "--chart", svg.toString());
        assertEquals(0, n.code(), n.err());
        assertTrue(n.out().contains("fp8_e4m3") && n.out().contains("4.4800e+02") && n.out().contains("8176..8224"), n.out());
        assertTrue(Files.readString(svg).startsWith("<svg"));
        CliTest.Run t = CliTest.run("doctor", "tokens", fx("hf/llama2").toString(), "--chart", tmp.resolve("rows.png").toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("no untrained tokens"), t.out());
        assertTrue(Files.size(tmp.resolve("rows.png")) > 5000);
        CliTest.Run again = CliTest.run("doctor", "numerics", "--count", "64", "--html", html.toString());
        assertEquals(2, again.code(), "an existing report is not replaced without --overwrite");
    }

    @Test
    void generateMinTokensAndIgnoreEos() {
        String model = fx("hf/qwen3").toString();
        CliTest.Run r = CliTest.run("generate", "--model", model, "--prompt-ids", "1,5,9", "--max-tokens", "10", "--ignore-eos");
        assertEquals(0, r.code(), r.err());
        String[] ids = r.out().trim().split(" ");
        assertEquals(10, ids.length, r.out());
        for (String id : ids) assertTrue(!id.equals("2"), r.out());
        assertEquals(2, CliTest.run("generate", "--model", model, "--prompt-ids", "1", "--max-tokens", "4", "--min-tokens", "5").code());
        assertEquals(0, CliTest.run("generate", "--model", model, "--prompt-ids", "1", "--max-tokens", "4", "--min-tokens", "4").code());
    }
}
