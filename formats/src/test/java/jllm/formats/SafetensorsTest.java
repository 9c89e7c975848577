package jllm.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.formats.safetensors.ShardedSafetensors;
import jllm.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file with the given JSON header and {@code dataBytes} zero bytes of data. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static String err(Path p) {
        return assertThrows(FormatException.class, () -> SafetensorsFile.open(p)).getMessage();
    }

    @Test
    void writesAndReadsBackAtomically() throws IOException {
        Path p = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("format", "pt").addF32("a", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
                .addI64("ids", new long[] {7, -8}, 2).write(p);
        SafetensorsFile f = SafetensorsFile.open(p);
        assertEquals("pt", f.metadata().get("format"));
        assertArrayEquals(new float[] {4, 5, 6}, f.tensor("a").row(1));
        assertArrayEquals(new long[] {7, -8}, f.longs("ids"));
        assertEquals(DType.F32, f.info("a").dtype());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertTrue(err(p).contains("too short"));
        Path q = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        assertTrue(err(q).contains("outside"), err(q));
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        Path p = dir.resolve("h.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
        assertTrue(err(p).contains("past the end"), err(p));
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertTrue(err(p).contains("not plausible"), err(p));
    }

    @Test
    void invalidJsonHeader() throws IOException {
        assertTrue(err(file("{not json", 0)).contains("not valid JSON"));
        assertTrue(err(file("[1,2]", 0)).contains("not a JSON object"));
    }

    @Test
    void offsetsOutsideReversedOrOverlapping() throws IOException {
        assertTrue(err(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8)).contains("reversed"));
        assertTrue(err(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8)).contains("negative"));
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertTrue(err(file(overlap, 12)).contains("overlap"));
    }

    @Test
    void dtypeShapeSizeMismatch() throws IOException {
        assertTrue(err(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).contains("needs 12 bytes"));
        assertTrue(err(file("{\"a\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)).contains("unknown dtype"));
        assertTrue(err(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8)).contains("overflows"));
        assertTrue(err(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)).contains("bad dimension"));
        Path p = file("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        assertTrue(assertThrows(FormatException.class, () -> SafetensorsFile.open(p).tensor("a")).getMessage().contains("expected a float type"));
    }

    @Test
    void missingTensorNamesTheTensor() throws IOException {
        Path p = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertTrue(assertThrows(FormatException.class, () -> SafetensorsFile.open(p).tensor("b")).getMessage().contains("missing tensor 'b'"));
    }

    @Test
    void shardedCheckpointsJoinByIndex() throws IOException {
        new SafetensorsWriter().addF32("x", new float[] {1, 2}, 2).write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addF32("y", new float[] {3}, 1).write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}");
        TensorStore st = ShardedSafetensors.openDirectory(dir);
        assertEquals(3f, st.tensor("y").get(0));
        assertEquals(2f, st.tensor("x").get(1));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"../evil.safetensors\"}}");
        assertTrue(assertThrows(FormatException.class, () -> ShardedSafetensors.openDirectory(dir)).getMessage().contains("leaves the model directory"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"model-00002-of-00002.safetensors\"}}");
        assertTrue(assertThrows(FormatException.class, () -> ShardedSafetensors.openDirectory(dir)).getMessage().contains("does not contain it"));
    }
}
