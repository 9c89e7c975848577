package jllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static jllm.cli.CliTest.fixtures;
import static jllm.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jllm tokenize / decode / bench tokenizer, end to end. */
class TokenizerCommandsTest {
    @TempDir Path tmp;

    @Test
    void tokenizeJsonlMatchesReferenceWithAndWithoutSpecialTokens() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(fixtures().resolve("tokenizers/reference.json").toFile());
        Path corpus = fixtures().resolve("tokenizers/corpus.jsonl");
        for (String name : new String[] {"llama2", "qwen3"}) {
            String dir = fixtures().resolve("tokenizers").resolve(name).toString();
            CliTest.Run plain = run("tokenize", "--tokenizer", dir, "--jsonl", corpus.toString());
            CliTest.Run special = run("tokenize", "--tokenizer", dir, "--add-special", "--jsonl", corpus.toString());
            assertEquals(0, plain.code(), plain.err());
            assertEquals(0, special.code(), special.err());
            String[] a = plain.out().split("\n"), b = special.out().split("\n");
            JsonNode cases = ref.path("models").path(name).path("cases");
            assertEquals(cases.size(), a.length);
            for (int i = 0; i < a.length; i++) {
                assertEquals(cases.get(i).get("ids").toString().replace(",", ", "), a[i], name + " line " + (i + 1));
                assertEquals(cases.get(i).get("ids_with_special").toString().replace(",", ", "), b[i], name + " line " + (i + 1));
            }
        }
    }

    @Test
    void tokenizeAndDecodeEveryFormat() {
        String[] paths = {"llamacpp/vocab/ggml-vocab-llama-spm.gguf", "llama2c/tokenizer.model", "llama2c/tokenizer.bin",
                "tokenizers/llama2/tokenizer.json"};
        for (String p : paths) {
            String tok = fixtures().resolve(p).toString();
            CliTest.Run r = run("tokenize", "--tokenizer", tok, "--text", "Hello world", "--add-special");
            assertEquals(0, r.code(), r.err());
            String want = p.contains("tokenizers/") ? "[1, 22557, 1526]" : "[1, 15043, 3186]";
            assertEquals(want, r.out().trim(), p);
            String ids = want.replaceAll("[\\[\\] ]", "");
            CliTest.Run d = run("decode", "--tokenizer", tok, "--ids", ids, "--skip-special");
            assertEquals(0, d.code(), d.err());
            assertEquals("Hello world", d.out().strip(), p);
        }
    }

    @Test
    void benchPrintsMegabytesPerSecondLast() throws Exception {
        Path f = tmp.resolve("t.txt");
        Files.writeString(f, "Hello world, this is a small benchmark text.\nZweite Zeile: 12345 ünïcödé 日本語\n".repeat(200));
        CliTest.Run r = run("bench", "tokenizer", "--tokenizer", fixtures().resolve("tokenizers/qwen3").toString(), "--file", f.toString(), "--seconds", "0.2");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("mb_per_s=\\d+\\.\\d+"), lines[lines.length - 1]);
    }

    @Test
    void badInputsGiveOneLineErrors() throws Exception {
        CliTest.Run r = run("tokenize", "--tokenizer", tmp.resolve("nope").toString(), "--text", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().strip().lines().count() == 1, r.err());
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"ok\"}\nnot json\n");
        r = run("tokenize", "--tokenizer", fixtures().resolve("tokenizers/qwen3").toString(), "--jsonl", bad.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("bad.jsonl:2"), r.err());
        r = run("decode", "--tokenizer", fixtures().resolve("llama2c/tokenizer.bin").toString(), "--ids", "1,x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'x' is not an integer"), r.err());
    }
}
