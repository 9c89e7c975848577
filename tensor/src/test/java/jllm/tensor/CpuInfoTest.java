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
    void subnormalsAreSlowOnIntelUnlessOverridden() {
        assertTrue(CpuInfo.slowSubnormals("", "GenuineIntel"));
        assertFalse(CpuInfo.slowSubnormals("", "AuthenticAMD"));
        assertFalse(CpuInfo.slowSubnormals("", ""));
        assertFalse(CpuInfo.slowSubnormals("fast", "GenuineIntel"));
        assertTrue(CpuInfo.slowSubnormals("slow", "AuthenticAMD"));
    }

    @Test
    void readsAreSerialOnIntelUnlessOverridden() {
        assertTrue(CpuInfo.serialReads("", "GenuineIntel"));
        assertFalse(CpuInfo.serialReads("", "AuthenticAMD"));
        assertFalse(CpuInfo.serialReads("off", "GenuineIntel"));
        assertTrue(CpuInfo.serialReads("on", "AuthenticAMD"));
    }

    @Test
    void armAndMissingFilesFallBack(@TempDir Path dir) {
        assertEquals("aarch64, 1 core, asimd, 128-bit vectors",
                CpuInfo.describe(Map.of("Features", "fp asimd evtstrm aes"), 1, 128, "aarch64"));
        assertEquals("amd64, 4 cores, 512-bit vectors", CpuInfo.describe(CpuInfo.read(dir.resolve("none")), 4, 512, "amd64"));
        assertEquals("x, 2 cores, avx2, 256-bit vectors", CpuInfo.describe(Map.of("model name", "x", "flags", "avx2 avx2"), 2, 256, "amd64"));
        assertTrue(CpuInfo.describe().contains("-bit vectors"));
    }
}
