package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuInfoTest {
    @Test
    void namesTheProcessorItsFamilyAndTheFlagsKernelsUse(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cpuinfo");
        Files.writeString(f, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                cpu family\t: 25
                model\t\t: 1
                model name\t: AMD EPYC
                flags\t\t: fpu sse avx f16c fma avx2 sha_ni

                processor\t: 1
                model name\t: Other
                """);
        Map<String, String> m = CpuInfo.read(f);
        assertEquals("AMD EPYC", m.get("model name"));
        assertEquals("AMD EPYC (family 25 model 1), 2 cores, avx2 fma f16c, 256-bit vectors", CpuInfo.describe(m, 2, 256, "amd64"));
    }

    @Test
    void intelDefaultsFollowTheVendorUnlessOverridden() {
        // slow subnormal operands (F16 decode), serial reads (Q5_K/Q6_K kernels) and half-rate 512-bit
        // 16-bit multiplies (prefill's 16-bit tile): Intel by default
        java.util.function.BiPredicate<String, String> subnormals = CpuInfo::slowSubnormals, serial = CpuInfo::serialReads, int16 = CpuInfo::halfRateWideInt16;
        String[][] overrides = {{"slow", "fast"}, {"on", "off"}, {"slow", "fast"}};
        java.util.List<java.util.function.BiPredicate<String, String>> flags = java.util.List.of(subnormals, serial, int16);
        for (int i = 0; i < flags.size(); i++) {
            var flag = flags.get(i);
            assertTrue(flag.test("", "GenuineIntel"));
            assertFalse(flag.test("", "AuthenticAMD"));
            assertFalse(flag.test("", ""));
            assertFalse(flag.test(overrides[i][1], "GenuineIntel"));
            assertTrue(flag.test(overrides[i][0], "AuthenticAMD"));
        }
    }

    @Test
    void armAndMissingFilesFallBack(@TempDir Path dir) {
        assertEquals("aarch64, 1 core, asimd, 128-bit vectors",
                CpuInfo.describe(Map.of("Features", "fp asimd evtstrm aes"), 1, 128, "aarch64"));
        assertEquals("amd64, 4 cores, 512-bit vectors", CpuInfo.describe(CpuInfo.read(dir.resolve("none")), 4, 512, "amd64"));
        assertEquals("x, 2 cores, avx2, 256-bit vectors", CpuInfo.describe(Map.of("model name", "x", "flags", "avx2 avx2"), 2, 256, "amd64"));
        assertTrue(CpuInfo.describe().contains("-bit vectors"));
    }

    @Test
    void largestCacheComesFromSysfsSizes(@TempDir Path dir) throws java.io.IOException {
        assertEquals(0, CpuInfo.largestCacheBytes(dir.resolve("none")));
        for (String[] e : new String[][] {{"index0", "48K\n"}, {"index2", "2048K\n"}, {"index3", "491520K\n"}, {"index4", "garbage"}}) {
            java.nio.file.Files.createDirectories(dir.resolve(e[0]));
            java.nio.file.Files.writeString(dir.resolve(e[0]).resolve("size"), e[1]);
        }
        assertEquals(491520L << 10, CpuInfo.largestCacheBytes(dir));
        assertEquals(32L << 20, CpuInfo.cacheSize("32M"));
        assertEquals(1L << 30, CpuInfo.cacheSize(" 1G "));
        assertEquals(4096, CpuInfo.cacheSize("4096"));
        for (String bad : new String[] {"", "K", "-1K", "1.5M", "99999999999999999K", "12 K"}) assertEquals(0, CpuInfo.cacheSize(bad), bad);
    }
}
