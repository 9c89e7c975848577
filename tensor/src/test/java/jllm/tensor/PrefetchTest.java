package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The prefetch stub: present where it is meant to be, harmless on any range a kernel may hand it, and silent on the data. */
class PrefetchTest {
    @Test
    void isOnWhereTheStubIsWritten() {
        String arch = System.getProperty("os.arch", ""), os = System.getProperty("os.name", "");
        if (os.startsWith("Linux") && (arch.equals("amd64") || arch.equals("x86_64")) && !"off".equals(System.getProperty("jllm.prefetch")))
            assertTrue(Prefetch.ON, "Linux x86-64: the prefetch stub should have been built");
    }

    @Test
    void prefetchesHeapAndNativeRangesWithoutChangingThem() {
        byte[] a = new byte[8192];
        for (int i = 0; i < a.length; i++) a[i] = (byte) (i * 31);
        byte[] copy = a.clone();
        MemorySegment heap = MemorySegment.ofArray(a);
        for (int bytes : new int[] {-3, 0, 1, 7 * 64, 512}) Prefetch.fourAhead(heap, 0, 1024, 2048, 4096, 0, bytes, 4096);
        Prefetch.fourAhead(heap, 0, 1024, 2048, 4096, 0, 700, 4096);     // inside every panel
        Prefetch.fourAhead(heap, 0, 1024, 2048, 4096, 4000, 700, 4096);  // past the end: nothing
        Prefetch.fourAhead(heap, 0, 1024, 2048, 4096, 2000, 700, 4096);  // clipped at the end
        assertArrayEquals(copy, a);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(1 << 16, 64);
            Prefetch.fourAhead(n, 0, 4096, 8192, 12288, 0, 4096, 4096);
            Prefetch.fourAhead(n, 0, 16384, 32768, 49152, 16384 - 64 - Prefetch.AHEAD, 64, 16384);
            // the row streams' call: four rows 4 KiB apart, the last one's prefetch past the segment's end
            Prefetch.rowsAhead(n, (1 << 16) - 3 * 4096 - 1024, 4096);
        }
        Prefetch.four(heap, 8192 - 256, 8192 - 128, 8192, 8192 + Prefetch.ROW_AHEAD, 4);
        assertArrayEquals(copy, a);
    }
}
