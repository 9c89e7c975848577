package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.gguf.GgufFile;
import jllm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jllm convert} writes the checkpoint's tokenizer (or none, or fails clearly on a broken one). */
class ConvertTokenizerTest {
    static Path checkpoint(Path dir) throws IOException {
        Path src = CliTest.fixtures().resolve("hf/llama3");
        for (String f : new String[] {"config.json", "generation_config.json", "model.safetensors"}) Files.copy(src.resolve(f), dir.resolve(f));
        return dir;
    }

    @Test
    void convertWritesTheTokenizerPaddedToTheEmbedding(@TempDir Path tmp) throws IOException {
        Path dir = checkpoint(Files.createDirectory(tmp.resolve("m")));
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġa": 4}, "merges": ["a b", "Ġ a"]},
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
                 "decoder": {"type": "ByteLevel"},
                 "added_tokens": [{"id": 5, "content": "<|eot|>", "special": true}]}
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|eot|>\", \"chat_template\": \"T\"}");
        Path out = tmp.resolve("m.gguf");
        CliTest.Run r = CliTest.run("convert", dir.toString(), "--to", out.toString(), "--type", "f32");
        assertEquals(0, r.code(), r.err());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals("gpt2", f.getString("tokenizer.ggml.model", null));
            assertEquals(384, f.getStringArray("tokenizer.ggml.tokens").length, "padded to config.json vocab_size");
            assertEquals(5, f.getLong("tokenizer.ggml.eos_token_id", -1));
            assertEquals("T", f.getString("tokenizer.chat_template", null));
        }
        Tokenizer t = Tokenizer.load(out);
        assertEquals("[2, 4, 5]", java.util.Arrays.toString(t.encode("ab a<|eot|>", false)));
    }

    @Test
    void noTokenizerFilesMeansNoTokenizerKeys(@TempDir Path tmp) throws IOException {
        Path dir = checkpoint(Files.createDirectory(tmp.resolve("m")));
        Path out = tmp.resolve("m.gguf");
        CliTest.Run r = CliTest.run("convert", dir.toString(), "--to", out.toString(), "--type", "f32");
        assertEquals(0, r.code(), r.err());
        try (GgufFile f = GgufFile.open(out)) {
            assertFalse(f.has("tokenizer.ggml.model"));
        }
    }

    @Test
    void malformedTokenizerJsonFailsWithTheReason(@TempDir Path tmp) throws IOException {
        Path dir = checkpoint(Files.createDirectory(tmp.resolve("m")));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        Path out = tmp.resolve("m.gguf");
        CliTest.Run r = CliTest.run("convert", dir.toString(), "--to", out.toString(), "--type", "f32");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("tokenizer.json") && r.err().contains("not valid JSON"), r.err());
        assertFalse(Files.exists(out));
    }
}
