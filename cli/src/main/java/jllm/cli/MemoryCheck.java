package jllm.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Refuses work that cannot fit in memory before it starts, with the figure needed, instead of an
 * {@code OutOfMemoryError} halfway (or the kernel's OOM killer).
 */
final class MemoryCheck {
    private MemoryCheck() { }

    /** Checks that {@code bytes} of native (off-heap) memory can be allocated for {@code what}. */
    static void requireNative(long bytes, String what) {
        long avail = available();
        if (avail > 0 && bytes > avail)
            throw new IllegalArgumentException(what + " needs " + gib(bytes) + " of memory; this machine has " + gib(avail)
                    + " available; use a smaller --type (e.g. q4_0) or preset");
        long limit = directLimit();
        if (bytes > limit)
            throw new IllegalArgumentException(what + " needs " + gib(bytes) + " of memory but this JVM may allocate only " + gib(limit)
                    + " off the heap; raise it with JLLM_JAVA_OPTS=-XX:MaxDirectMemorySize=...");
    }

    /** MemAvailable of /proc/meminfo in bytes, or -1 where there is none. */
    static long available() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (Exception e) {
            // not Linux: no figure, no check
        }
        return -1;
    }

    /** The JVM's limit on direct memory, which {@code Arena} allocations count against. */
    static long directLimit() {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long v = Long.parseLong(bean.getVMOption("MaxDirectMemorySize").getValue());
            return v > 0 ? v : Runtime.getRuntime().maxMemory();
        } catch (RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    static String gib(long bytes) { return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30)); }
}
