package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two ceilings every kernel figure is measured against, taken in the same run: how fast the cores
 * can stream memory, and how many fp32 multiply-adds they can issue. Decode of a quantized model is
 * bounded by the first (or by the per-weight conversion work), prefill by the second.
 */
public final class Roofline {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> LV = LongVector.SPECIES_PREFERRED;

    private Roofline() { }

    /** Wall-clock nanoseconds: the default clock of the measurements. */
    public static final java.util.function.LongSupplier WALL = System::nanoTime;

    /**
     * CPU nanoseconds used by this JVM's Java threads (the workers and the caller; not the JIT or GC
     * threads). On a machine shared with other work, rates per CPU-second show what the code does with
     * the cores it gets, where wall-clock rates mostly show how much of them it got. Spinning workers
     * count as busy, as they are.
     */
    public static final java.util.function.LongSupplier CPU = () -> {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : mx.getAllThreadIds()) sum += Math.max(0, mx.getThreadCpuTime(id));
        return sum;
    };

    /** As {@link #readGBs(Parallel, long, double, java.util.function.LongSupplier)} on the wall clock. */
    public static double readGBs(Parallel par, long bytes, double seconds) { return readGBs(par, bytes, seconds, WALL); }

    /** As {@link #fmaGmacs(Parallel, double, java.util.function.LongSupplier)} on the wall clock. */
    public static double fmaGmacs(Parallel par, double seconds) { return fmaGmacs(par, seconds, WALL); }

    /**
     * Read bandwidth in GB/s: {@code threads} workers summing disjoint parts of a {@code bytes} buffer
     * with vector loads, timed by {@code clock} ({@link #CPU}: bytes per CPU-second, per core).
     */
    public static double readGBs(Parallel par, long bytes, double seconds, java.util.function.LongSupplier clock) {
        long n = Math.max(1L << 20, bytes / 4096 * 4096);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(n, 4096);
            m.fill((byte) 1);
            int chunks = par.threads();
            long per = n / chunks / 256 * 256;
            long[] sink = new long[chunks];
            Runnable pass = () -> par.forRange(chunks, 1, (a, b) -> {
                for (int c = a; c < b; c++) sink[c] += sum(m, c * per, c * per + per);
            });
            pass.run();
            return (double) per * chunks / bestPass(pass, seconds, clock);
        }
    }

    /**
     * The fastest of the runs of {@code pass} in {@code seconds} of wall clock, in {@code clock}'s
     * nanoseconds: the best, not the mean, as on a shared machine other tenants only ever slow a run down.
     */
    public static long bestPass(Runnable pass, double seconds, java.util.function.LongSupplier clock) {
        long best = Long.MAX_VALUE, end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long t0 = clock.getAsLong();
            pass.run();
            best = Math.min(best, clock.getAsLong() - t0);
        } while (System.nanoTime() < end);
        return best;
    }

    private static long sum(MemorySegment m, long from, long to) {
        LongVector a = LongVector.zero(LV), b = a, c = a, d = a;
        int step = LV.vectorByteSize();
        for (long o = from; o + 4 * step <= to; o += 4 * step) {
            a = a.add(LongVector.fromMemorySegment(LV, m, o, ByteOrder.LITTLE_ENDIAN));
            b = b.add(LongVector.fromMemorySegment(LV, m, o + step, ByteOrder.LITTLE_ENDIAN));
            c = c.add(LongVector.fromMemorySegment(LV, m, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            d = d.add(LongVector.fromMemorySegment(LV, m, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    }

    /**
     * fp32 multiply-adds per second (G) on all of {@code par}'s threads: eight independent FMA chains
     * per thread, in registers; timed by {@code clock} ({@link #CPU}: per CPU-second, per core).
     */
    public static double fmaGmacs(Parallel par, double seconds, java.util.function.LongSupplier clock) {
        int chunks = par.threads();
        float[] sink = new float[chunks];
        // Short calls first, so C2 has compiled the loop before anything is timed (a first call of a
        // million iterations would run interpreted, and on a busy machine the compiler threads lag).
        for (int w = 0; w < 200; w++) par.forRange(chunks, 1, (a, b) -> { for (int c = a; c < b; c++) sink[c] += chains(1000); });
        long iters = 1 << 18;
        long best = bestPass(() -> par.forRange(chunks, 1, (a, b) -> { for (int c = a; c < b; c++) sink[c] += chains(iters); }), seconds, clock);
        return 8.0 * F.length() * iters * chunks / best;
    }

    private static float chains(long iters) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m;
        // Each chain runs through the addend, as a GEMM's accumulators do: chained through a multiplicand
        // (a = a m + c) the same eight chains measured 41 GMAC/s per core on the AMD EPYC Zen 3 against
        // 48-49 this way, less than the F16 prefill kernel itself reached (47).
        for (long i = 0; i < iters; i++) {
            a0 = m.fma(c, a0); a1 = m.fma(c, a1); a2 = m.fma(c, a2); a3 = m.fma(c, a3);
            a4 = m.fma(c, a4); a5 = m.fma(c, a5); a6 = m.fma(c, a6); a7 = m.fma(c, a7);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }
}
