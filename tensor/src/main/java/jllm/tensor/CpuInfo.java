package jllm.tensor;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.incubator.vector.FloatVector;

/**
 * One line naming the processor the kernels run on, for benchmark output: speed figures differ by
 * CPU (one build decoded Q4_0 at 0.42x llama.cpp's rate on an Intel Xeon and at 0.63x on an AMD
 * EPYC, issue 12), so every figure should say which one it came from. Linux's {@code /proc/cpuinfo}
 * (first processor only) gives the name, x86 family / model and the instruction-set flags the
 * kernels care about; elsewhere the JVM's architecture name stands in. The vector width is the one
 * the kernels use ({@link FloatVector#SPECIES_PREFERRED}, which {@code -XX:MaxVectorSize} caps).
 */
public final class CpuInfo {
    private CpuInfo() { }

    /** Flags worth naming, in this order: what selects or speeds up a kernel path. */
    private static final List<String> FLAGS = List.of("avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
            "avx2", "fma", "f16c", "asimd", "sve", "sve2");

    /** E.g. {@code AMD EPYC (family 25 model 1), 2 cores, avx2 fma f16c, 256-bit vectors}. */
    public static String describe() {
        return describe(read(Path.of("/proc/cpuinfo")), Runtime.getRuntime().availableProcessors(),
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), System.getProperty("os.arch", "unknown"));
    }

    static String describe(Map<String, String> info, int cores, int vectorBits, String arch) {
        String name = info.getOrDefault("model name", "").strip();
        if (name.isEmpty()) name = arch;
        StringBuilder s = new StringBuilder(name);
        String family = info.get("cpu family"), model = info.get("model");
        if (family != null && model != null) s.append(" (family ").append(family.strip()).append(" model ").append(model.strip()).append(')');
        s.append(", ").append(cores).append(cores == 1 ? " core" : " cores");
        String flags = info.getOrDefault("flags", info.getOrDefault("Features", ""));
        Set<String> have = new HashSet<>(Arrays.asList(flags.strip().split("\\s+")));  // not Set.of: it refuses duplicates
        List<String> named = new ArrayList<>();
        for (String f : FLAGS) if (have.contains(f)) named.add(f);
        if (!named.isEmpty()) s.append(", ").append(String.join(" ", named));
        return s.append(", ").append(vectorBits).append("-bit vectors").toString();
    }

    /**
     * Whether an FMA or multiply with a subnormal fp32 input is slow here, so that kernels should keep
     * such inputs out of their hot loops. Intel cores (without the DAZ mode, which Java cannot set)
     * hand each such instruction to a microcode assist of roughly 120 cycles: on the Intel Xeon
     * (family 6 model 207) the F16 decode kernel, whose widened weights are the halves times 2^-112
     * (subnormal for the subnormal halves, 0.24% of N(0, 0.02) weights), ran at 5.1-5.4 Gw/s per core
     * in L2 against 10.8-11.8 with no subnormal halves. AMD's Zen cores are documented to take them in
     * hardware (not measured here; F16 decode there ran at 78-88% of the bandwidth without this). {@code -Djllm.subnormals=slow|fast} overrides.
     */
    public static boolean slowSubnormals() { return SLOW_SUBNORMALS; }

    private static final String VENDOR = read(Path.of("/proc/cpuinfo")).getOrDefault("vendor_id", "");

    private static final boolean SLOW_SUBNORMALS = slowSubnormals(System.getProperty("jllm.subnormals", ""), VENDOR);

    static boolean slowSubnormals(String override, String vendor) { return intelUnless(override, "slow", "fast", vendor); }

    /**
     * Whether 16-bit vector multiplies at 512 bits run at half the rate of fp32 FMAs here, so that
     * prefill's 16-bit tile (QuantMatmul) loses to the fp32 one at that width. Intel's server cores
     * issue 512-bit FMAs on two ports and 512-bit {@code vpmullw} on one: on the Intel Xeon (family 6
     * model 167) {@code bench kernels} prefill, [8192, 2048] x 128 tokens, two threads, Q4_K 132-133
     * GMAC/s with the 16-bit tile against 147-155 with fp32 activations, Q4_0 136-137 against
     * 149-154; at 256 bits (three ports, two of them multiplying) the 16-bit tile wins, 103-105
     * against 95-98 for Q4_K. On AMD's Zen 4 the 16-bit tile ran 1.3x the fp32 one. True for vendor
     * GenuineIntel; {@code -Djllm.wideint16=slow|fast} overrides.
     */
    public static boolean halfRateWideInt16() { return HALF_RATE_WIDE_INT16; }

    private static final boolean HALF_RATE_WIDE_INT16 = halfRateWideInt16(System.getProperty("jllm.wideint16", ""), VENDOR);

    static boolean halfRateWideInt16(String override, String vendor) { return intelUnless(override, "slow", "fast", vendor); }

    /** {@code override} where it is {@code yes} or {@code no}, else whether {@code vendor} is Intel. */
    private static boolean intelUnless(String override, String yes, String no, String vendor) {
        if (override.equals(yes)) return true;
        if (override.equals(no)) return false;
        return vendor.strip().equals("GenuineIntel");
    }

    /**
     * Whether a core here reads a memory stream and does independent arithmetic one after the other
     * rather than at once. On the Intel Xeon (family 6 model 207, a KVM guest) a 512 MiB stream read at
     * 11.1 GB/s alone and at 6.3-6.9 GB/s with 8 register-only multiplies per cache line that ran at
     * 21 GB/s in L2 (the sum of the two times predicts 7.3), and the one-panel kernels of Q5_K and
     * Q6_K read 5.0-5.5 GB/s against 10-16 GB/s of their arithmetic in L2. Their four-panel kernels
     * (four streams, each broadcast of x shared by four panels) overlap more there, and Q5_K and Q6_K
     * take them where this holds: two threads from memory 1.16-1.22x (Q5_K) and 1.11-1.30x (Q6_K, 0.94
     * in one pair of five) against the one-panel kernels. On AMD's Zen 5 the one-panel kernels won
     * (twenty-sixth round) and reached 80-125% of the bandwidth. True for vendor GenuineIntel; {@code
     * -Djllm.serialreads=on|off} overrides (tests run both). docs/quantization-and-speed.md,
     * twenty-ninth round.
     */
    public static boolean serialReads() { return SERIAL_READS; }

    private static final boolean SERIAL_READS = serialReads(System.getProperty("jllm.serialreads", ""), VENDOR);

    static boolean serialReads(String override, String vendor) { return intelUnless(override, "on", "off", vendor); }

    /** The first processor's {@code key : value} lines; empty where the file is missing or unreadable. */
    static Map<String, String> read(Path cpuinfo) {
        Map<String, String> m = new LinkedHashMap<>();
        if (!Files.isReadable(cpuinfo)) return m;
        try (BufferedReader r = Files.newBufferedReader(cpuinfo, StandardCharsets.ISO_8859_1)) {
            String line;
            // one processor's block, and a bounded one: a line or block cannot grow without limit
            for (int n = 0; (line = r.readLine()) != null && n < 200; n++) {
                if (line.isBlank()) {
                    if (!m.isEmpty()) break;
                    continue;
                }
                int c = line.indexOf(':');
                if (c > 0) m.putIfAbsent(line.substring(0, c).strip(), line.substring(c + 1).strip());
            }
        } catch (IOException | RuntimeException e) {
            // the description is informative only
        }
        return m;
    }

    /**
     * The largest cache the first processor reports (Linux's {@code /sys/devices/system/cpu/cpu0/cache}),
     * in bytes; 0 where none is readable. Benchmarks that mean to stream from memory size their buffers
     * by it: one Intel Xeon here reports a 480 MiB L3, so a 512 MiB stream was read partly from cache.
     */
    public static long largestCacheBytes() { return largestCacheBytes(Path.of("/sys/devices/system/cpu/cpu0/cache")); }

    static long largestCacheBytes(Path dir) {
        long max = 0;
        for (int i = 0; i < 16; i++) {
            Path f = dir.resolve("index" + i).resolve("size");
            if (!Files.isReadable(f)) continue;
            try {
                max = Math.max(max, cacheSize(Files.readString(f, StandardCharsets.ISO_8859_1)));
            } catch (IOException | RuntimeException e) {
                // an unreadable entry counts as none
            }
        }
        return max;
    }

    /** {@code 491520K}, {@code 32M}, {@code 1G} or plain bytes; 0 for anything else. */
    static long cacheSize(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.length() > 18) return 0;
        long unit = switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) return 0;
        long v = Long.parseLong(digits);
        return v > Long.MAX_VALUE / unit ? 0 : v * unit;
    }
}
