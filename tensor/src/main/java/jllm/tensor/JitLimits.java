package jllm.tensor;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/**
 * Whether this JVM's C2 limits leave room for the quantized decode kernels. Each Vector API operation
 * is a call that C2 turns into vector instructions by late inlining, and C2 stops inlining once the
 * method's graph holds {@code LiveNodeCountInliningCutoff} (default 40000) live nodes; the kernels
 * written out per panel reach ~44000 nodes at 512 bits and ~88000 at 256, and the operations left over
 * run their Java fallbacks (lane loops that allocate) for the rest of the process: 3-10x slower decode
 * of that format, in some JVMs and not others (docs/quantization-and-speed.md, thirtieth round). The
 * {@code ./jllm} launcher raises the limit; an application that embeds jllm has to pass the same flags
 * itself, and this says so once, at the first backend, instead of leaving a slow run unexplained.
 *
 * <p>The trap limits: C2 resolves most Vector API calls through a type profile guarded by a class
 * check, and lets a failed check trap unless the compile has had too many traps or recompilations,
 * counted by summing the counters of every inlined method once per inlined copy. A kernel inlines
 * hundreds of copies of the same Vector API methods, whose counters the other kernels'
 * deoptimizations raise, so past the default limits (100 traps, 400 / 2 recompilations) each check
 * got a virtual call instead, the species after it was no longer a constant, and the operations went
 * to their Java fallbacks in some kernels of some processes (thirty-second round). The per-site limits
 * ({@code PerBytecodeTrapLimit}, {@code PerBytecodeRecompilationCutoff}) stay as they are.
 *
 * <p>None of these flags can be set from inside a running JVM (they are not manageable flags).
 */
public final class JitLimits {
    private JitLimits() { }

    /** The flags the launcher passes, for messages and for whoever starts a JVM that runs the kernels. */
    public static final String FLAGS = "-XX:LiveNodeCountInliningCutoff=160000 -XX:MaxNodeLimit=320000 -XX:NodeLimitFudgeFactor=16000"
            + " -XX:PerMethodTrapLimit=1000000000 -XX:PerMethodRecompilationCutoff=1000000000";

    /** The flags checked; each needs at least its value in {@link #FLAGS}. */
    static final String[] CHECKED = {"LiveNodeCountInliningCutoff", "PerMethodTrapLimit", "PerMethodRecompilationCutoff"};

    /** {@code flag}'s value in {@link #FLAGS}. */
    static long needed(String flag) {
        String key = "-XX:" + flag + "=";
        int at = FLAGS.indexOf(key) + key.length(), end = FLAGS.indexOf(' ', at);
        return Long.parseLong(FLAGS.substring(at, end < 0 ? FLAGS.length() : end));
    }

    private static volatile boolean warned;

    /** A warning when C2 is in use with limits below what the kernels need, else empty. */
    public static Optional<String> warning() {
        try {
            HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (hs == null) return Optional.empty();
            String[] values = new String[CHECKED.length];
            for (int i = 0; i < values.length; i++) values[i] = hs.getVMOption(CHECKED[i]).getValue();
            return warning(values, hs.getVMOption("TieredStopAtLevel").getValue());
        } catch (RuntimeException | LinkageError e) {  // not HotSpot, or a flag is gone in a later JDK: nothing to say
            return Optional.empty();
        }
    }

    /** {@code values[i]}: the JVM's value of {@code CHECKED[i]}. */
    static Optional<String> warning(String[] values, String tieredStopAtLevel) {
        if (!tieredStopAtLevel.strip().equals("4")) return Optional.empty();  // C1 only: no C2 to limit
        StringBuilder low = new StringBuilder();
        for (int i = 0; i < CHECKED.length; i++) {
            long v;
            try {
                v = Long.parseLong(values[i].strip());
            } catch (NumberFormatException e) {
                continue;
            }
            // -1 is PerMethodRecompilationCutoff's "unlimited"
            if (v >= needed(CHECKED[i]) || v == -1 && CHECKED[i].equals("PerMethodRecompilationCutoff")) continue;
            low.append(low.isEmpty() ? "" : " ").append("-XX:").append(CHECKED[i]).append('=').append(v);
        }
        if (low.isEmpty()) return Optional.empty();
        return Optional.of("jllm: this JVM runs with " + low + "; C2 may then leave parts of the quantized "
                + "decode kernels as slow Java fallbacks. Start java with " + FLAGS + " (the ./jllm launcher does).");
    }

    /** Prints {@link #warning()} to stderr, once per process. */
    static void warnOnce() {
        if (warned) return;
        warned = true;
        warning().ifPresent(System.err::println);
    }
}
