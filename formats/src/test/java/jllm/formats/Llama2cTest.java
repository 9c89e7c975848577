package jllm.formats;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import jllm.formats.llama2c.Llama2cCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cTest {
    @TempDir
    Path dir;

    private Path header(int... h) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : h) b.putInt(v);
        Path p = dir.resolve("m" + Arrays.hashCode(h) + ".bin");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void absurdHeadersAreRefusedBeforeAllocating() throws IOException {
        String m = assertThrows(FormatException.class, () -> Llama2cCheckpoint.open(header(1 << 30, 8, 1, 1, 1, 10, 10))).getMessage();
        assertTrue(m.contains("dim"), m);
        m = assertThrows(FormatException.class, () -> Llama2cCheckpoint.open(header(64, 172, 5, 8, 4, 512, 512))).getMessage();
        assertTrue(m.contains("truncated"), m);
        m = assertThrows(FormatException.class, () -> Llama2cCheckpoint.open(header(64, 172, 5, 8, 3, 512, 512))).getMessage();
        assertTrue(m.contains("heads"), m);
    }

    @Test
    void realCheckpointLoads() {
        Path p = jllm.testkit.Fixtures.path("llama2c/stories260K.bin");
        Llama2cCheckpoint ck = Llama2cCheckpoint.open(p);
        assertTrue(ck.names().contains("model.layers.4.mlp.down_proj.weight"));
        assertTrue(ck.configJson().contains("\"num_key_value_heads\": 4"));
    }
}
