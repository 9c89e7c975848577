package jllm.formats.gguf;

import jllm.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class GgufFileTest {
    @TempDir Path dir;

    /** Minimal little-endian GGUF writer for building valid and hostile files. */
    static final class W {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        W u32(int v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }
        W u64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
        W f32(float v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array()); }
        W str(String s) { byte[] b = s.getBytes(StandardCharsets.UTF_8); u64(b.length); return raw(b); }
        W raw(byte[] b) { out.writeBytes(b); return this; }
        W header(int version, long tensors, long kvs) { raw("GGUF".getBytes()); u32(version); u64(tensors); return u64(kvs); }
        W pad(int align) { while (out.size() % align != 0) out.write(0); return this; }
        byte[] bytes() { return out.toByteArray(); }
    }

    Path write(byte[] b) throws Exception {
        Path p = Files.createTempFile(dir, "t", ".gguf");
        Files.write(p, b);
        return p;
    }

    static W validFile() {
        W w = new W().header(3, 1, 6);
        w.str("general.architecture").u32(8).str("llama");
        w.str("a.u32").u32(4).u32(0xFFFFFFFF);
        w.str("a.f32").u32(6).f32(1.5f);
        w.str("a.bool").u32(7).raw(new byte[] {1});
        w.str("a.strs").u32(9).u32(8).u64(2).str("x").str("yz");
        w.str("a.nested").u32(9).u32(9).u64(2).u32(5).u64(1).u32(7).u32(5).u64(2).u32(8).u32(9);
        w.str("w").u32(2).u64(4).u64(2).u32(0).u64(0);
        w.pad(32);
        for (int i = 0; i < 8; i++) w.f32(i);
        return w;
    }

    @Test
    void readsAllValueTypesAndTensors() throws Exception {
        try (GgufFile f = GgufFile.open(write(validFile().bytes()))) {
            assertEquals(3, f.version());
            assertEquals("llama", f.getString("general.architecture", null));
            assertEquals(0xFFFFFFFFL, f.getLong("a.u32", 0));
            assertEquals(1.5, f.getDouble("a.f32", 0));
            assertTrue(f.getBool("a.bool", false));
            assertArrayEquals(new String[] {"x", "yz"}, f.getStringArray("a.strs"));
            Object[] nested = (Object[]) f.get("a.nested");
            assertArrayEquals(new int[] {7}, (int[]) nested[0]);
            assertArrayEquals(new int[] {8, 9}, (int[]) nested[1]);
            GgufTensorInfo t = f.tensor("w");
            assertArrayEquals(new long[] {4, 2}, t.dims());
            assertEquals(32, t.data().byteSize());
            assertEquals(7f, t.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 7));
        }
    }

    @Test
    void overlappingTensorDataIsRefusedAsForSafetensors() throws Exception {
        // two 4x2 f32 tensors whose data both start at offset 0 (the second aliases the first)
        W w = new W().header(3, 2, 0);
        w.str("a").u32(2).u64(4).u64(2).u32(0).u64(0);
        w.str("b").u32(2).u64(4).u64(2).u32(0).u64(0);
        w.pad(32);
        for (int i = 0; i < 8; i++) w.f32(i);
        Path p = write(w.bytes());
        var e = assertThrows(FormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("'a' and 'b' overlap"), e.getMessage());
        // partly overlapping: b starts in the middle of a
        W v = new W().header(3, 2, 0);
        v.str("a").u32(1).u64(16).u32(0).u64(0);
        v.str("b").u32(1).u64(8).u32(0).u64(32);
        v.pad(32);
        for (int i = 0; i < 16; i++) v.f32(i);
        var e2 = assertThrows(FormatException.class, () -> GgufFile.open(write(v.bytes())));
        assertTrue(e2.getMessage().contains("overlap"), e2.getMessage());
    }

    @Test
    void readsFixtureVocab() {
        Path fx = fixtures().resolve("llamacpp/vocab/ggml-vocab-llama-spm.gguf");
        try (GgufFile f = GgufFile.open(fx)) {
            assertEquals("llama", f.getString("tokenizer.ggml.model", null));
            assertEquals(32000, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(32000, f.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(32000, f.getIntArray("tokenizer.ggml.token_type").length);
        }
    }

    static Path fixtures() {
        return jllm.testkit.Fixtures.root();
    }

    void assertBad(byte[] b, String fragment) throws Exception {
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(write(b)).close());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void badMagic() throws Exception {
        byte[] b = validFile().bytes();
        b[0] = 'X';
        assertBad(b, "not a GGUF file");
    }

    @Test
    void badVersion() throws Exception {
        assertBad(new W().header(1, 0, 0).bytes(), "version 1");
        assertBad(new W().header(7, 0, 0).bytes(), "unsupported GGUF version 7");
    }

    @Test
    void truncationAnywhere() throws Exception {
        byte[] b = validFile().bytes();
        for (int n = 0; n < b.length; n += 7) {
            byte[] cut = Arrays.copyOf(b, n);
            assertThrows(FormatException.class, () -> GgufFile.open(write(cut)).close(), "cut at " + n);
        }
    }

    @Test
    void absurdCounts() throws Exception {
        assertBad(new W().header(3, 0, Long.MAX_VALUE).bytes(), "metadata count");
        assertBad(new W().header(3, 1L << 40, 0).bytes(), "tensor count");
        assertBad(new W().header(3, 0, 1).str("k").u32(9).u32(6).u64(1L << 40).bytes(), "array length");
    }

    @Test
    void stringPastEnd() throws Exception {
        assertBad(new W().header(3, 0, 1).str("k").u32(8).u64(1000).raw(new byte[3]).bytes(), "runs past the end");
    }

    @Test
    void unknownValueType() throws Exception {
        assertBad(new W().header(3, 0, 1).str("k").u32(42).u32(0).bytes(), "unknown value type 42");
        assertBad(new W().header(3, 0, 1).str("k").u32(9).u32(77).u64(0).bytes(), "unknown array element type 77");
    }

    @Test
    void tensorOutsideFile() throws Exception {
        W w = new W().header(3, 1, 0);
        w.str("w").u32(1).u64(1024).u32(0).u64(0).pad(32).f32(1);
        assertBad(w.bytes(), "outside the data section");
        W w2 = new W().header(3, 1, 0);
        w2.str("w").u32(1).u64(1).u32(0).u64(1L << 50).pad(32).f32(1);
        assertBad(w2.bytes(), "outside the data section");
    }

    @Test
    void badTensorShapeAndType() throws Exception {
        assertBad(new W().header(3, 1, 0).str("w").u32(9).raw(new byte[64]).bytes(), "9 dimensions");
        assertBad(new W().header(3, 1, 0).str("w").u32(1).u64(4).u32(99).u64(0).pad(32).f32(0).bytes(), "unknown ggml type 99");
        assertBad(new W().header(3, 1, 0).str("w").u32(1).u64(4).u32(0).u64(3).pad(32).f32(0).bytes(), "alignment");
    }

    @Test
    void duplicateKey() throws Exception {
        assertBad(new W().header(3, 0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(1).bytes(), "duplicate metadata key");
    }

    @Test
    void badAlignment() throws Exception {
        assertBad(new W().header(3, 0, 1).str("general.alignment").u32(4).u32(24).bytes(), "power of two");
    }
}
