package jllm.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTrainCommandTest {
    @TempDir Path dir;

    @Test
    void trainsWritesAndReports() throws Exception {
        Path data = CliTest.fixtures().resolve("datasets/tinyshakespeare.txt");
        Path out = dir.resolve("tok");
        CliTest.Run r = CliTest.run("tokenizer", "train", "--data", data.toString(), "--vocab", "400", "--out", out.toString(), "--val-fraction", "0.1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("400 tokens (141 merges, 3 special)"), r.out());
        assertTrue(r.out().matches("(?s).*chars/token train=\\d\\.\\d{3} val=\\d\\.\\d{3}.*"), r.out());
        Tokenizer t = Tokenizer.load(out);
        assertEquals(400, t.vocabSize());
        assertEquals("<|pad|>", t.specialTokens().get("pad_token"));
        CliTest.Run again = CliTest.run("tokenizer", "train", "--data", data.toString(), "--vocab", "400", "--out", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().startsWith("error: ") && again.err().contains("--overwrite"), again.err());
    }

    @Test
    void badInputs() throws Exception {
        Path latin = dir.resolve("latin1.txt");
        Files.write(latin, "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        CliTest.Run r = CliTest.run("tokenizer", "train", "--data", latin.toString(), "--vocab", "300", "--out", dir.resolve("a").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("latin1.txt:1: not valid UTF-8"), r.err());
        assertFalse(Files.exists(dir.resolve("a")), "a failed run leaves no empty output directory");
        Path small = Files.writeString(dir.resolve("s.txt"), "hello");
        CliTest.Run v = CliTest.run("tokenizer", "train", "--data", small.toString(), "--vocab", "100", "--out", dir.resolve("b").toString());
        assertEquals(2, v.code());
        assertTrue(v.err().contains("--vocab 100 is too small"), v.err());
        CliTest.Run p = CliTest.run("tokenizer", "train", "--data", small.toString(), "--vocab", "300", "--pad", "<|eos|>", "--out", dir.resolve("c").toString());
        assertEquals(2, p.code());
        assertTrue(p.err().contains("--pad must differ from --eos"), p.err());
    }
}
