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
 * The flag cannot be set from inside a running JVM (it is not a manageable flag).
 */
public final class JitLimits {
    private JitLimits() { }

    /** The flags the launcher passes, for messages and for whoever starts a JVM that runs the kernels. */
    public static final String FLAGS = "-XX:LiveNodeCountInliningCutoff=160000 -XX:MaxNodeLimit=320000 -XX:NodeLimitFudgeFactor=16000";

    static final long NEEDED_CUTOFF = 160_000;

    private static volatile boolean warned;

    /** A warning when C2 is in use with a cutoff below what the kernels need, else empty. */
    public static Optional<String> warning() {
        try {
            HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (hs == null) return Optional.empty();
            return warning(hs.getVMOption("LiveNodeCountInliningCutoff").getValue(), hs.getVMOption("TieredStopAtLevel").getValue());
        } catch (RuntimeException | LinkageError e) {  // not HotSpot, or the flag is gone in a later JDK: nothing to say
            return Optional.empty();
        }
    }

    static Optional<String> warning(String cutoff, String tieredStopAtLevel) {
        long c;
        try {
            c = Long.parseLong(cutoff.strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (c >= NEEDED_CUTOFF || !tieredStopAtLevel.strip().equals("4")) return Optional.empty();  // C1 only: no C2 to limit
        return Optional.of("jllm: this JVM runs with -XX:LiveNodeCountInliningCutoff=" + c + "; C2 may then leave parts of the quantized "
                + "decode kernels as slow Java fallbacks. Start java with " + FLAGS + " (the ./jllm launcher does).");
    }

    /** Prints {@link #warning()} to stderr, once per process. */
    static void warnOnce() {
        if (warned) return;
        warned = true;
        warning().ifPresent(System.err::println);
    }
}
