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

    /** As {@link #fmaGmacs(Parallel, double, java.util.function.LongSupplier)} on the wall clock. */
    public static double fmaGmacs(Parallel par, double seconds) { return fmaGmacs(par, seconds, WALL); }

    /**
     * Read bandwidth in GB/s: {@code par}'s workers summing disjoint parts of a buffer with vector
     * loads. The probe keeps its buffer, so that it can be timed again and again between other
     * measurements: on a shared machine the read bandwidth moves by 2x from one minute to the next
     * (12.5-31 GB/s at two threads on the Intel Xeon of the thirty-second round), and a kernel's share
     * of it only means something against the stream timed in the same minutes.
     */
    public static final class ReadProbe implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final Runnable pass;
        private final long bytes;

        /** A probe over about {@code bytes} (at least 1 MiB) of native memory, read once here. */
        public ReadProbe(Parallel par, long bytes) {
            long n = Math.max(1L << 20, bytes / 4096 * 4096);
            MemorySegment m;
            try {
                m = arena.allocate(n, 4096);
            } catch (RuntimeException | OutOfMemoryError e) {
                arena.close();
                throw e;
            }
            m.fill((byte) 1);
            int chunks = par.threads();
            long per = n / chunks / 256 * 256;
            long[] sink = new long[chunks];
            pass = () -> par.forRange(chunks, 1, (a, b) -> {
                for (int c = a; c < b; c++) sink[c] += sum(m, c * per, c * per + per);
            });
            this.bytes = per * chunks;
            pass.run();
        }

        /** GB/s of the fastest pass in {@code seconds} of wall clock, timed by {@code clock} ({@link #CPU}: bytes per CPU-second, per core; {@link #bestPass}). */
        public double gbs(double seconds, java.util.function.LongSupplier clock) { return (double) bytes / bestPass(pass, seconds, clock); }

        @Override public void close() { arena.close(); }
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

    /**
     * How far a core's stream reads and its independent arithmetic overlap ({@link CpuInfo#serialReads}):
     * GB/s of a stream read alone ({@code stream}), of a loop with one load per cache line and 32 FMAs
     * per 128 bytes (eight register chains, about as fast as a core's share of the stream, independent of the loaded data) over a 64 KiB buffer per thread that
     * stays in cache ({@code arithmetic}), and of that loop over the {@code bytes} buffer ({@code
     * together}). {@code share} is the time the overlap saved, {@code (t_stream + t_arithmetic -
     * t_together) / min(t_stream, t_arithmetic)}, clamped to [0, 1]: 1 where the slower of the two
     * hides the other, 0 where they take the sum of their times.
     */
    public record Overlap(double stream, double arithmetic, double together, double share) { }

    /** As {@link Overlap}: all of {@code par}'s threads, timed by {@code clock}. */
    public static Overlap overlap(Parallel par, long bytes, double seconds, java.util.function.LongSupplier clock) {
        long n = Math.max(1L << 20, bytes / 4096 * 4096);
        int chunks = par.threads();
        long small = 64 << 10;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(n, 4096), c = arena.allocate(small * chunks, 4096);
            m.fill((byte) 1);
            c.fill((byte) 1);
            long per = n / chunks / 256 * 256, reps = Math.max(1, per / small);
            float[] sink = new float[chunks];
            Runnable read = () -> par.forRange(chunks, 1, (a, b) -> { for (int k = a; k < b; k++) sink[k] += sum(m, k * per, k * per + per); });
            Runnable both = () -> par.forRange(chunks, 1, (a, b) -> { for (int k = a; k < b; k++) sink[k] += sumWithFmas(m, k * per, k * per + per); });
            Runnable fmas = () -> par.forRange(chunks, 1, (a, b) -> {
                for (int k = a; k < b; k++) for (long r = 0; r < reps; r++) sink[k] += sumWithFmas(c, k * small, k * small + small);
            });
            for (int w = 0; w < 20; w++) fmas.run();
            double tRead = bestPass(read, seconds, clock), tBoth = bestPass(both, seconds, clock);
            double tFmas = bestPass(fmas, seconds, clock) * ((double) per / (reps * small));
            double total = (double) per * chunks;
            double share = Math.max(0, Math.min(1, (tRead + tFmas - tBoth) / Math.min(tRead, tFmas)));
            return new Overlap(total / tRead, total / tFmas, total / tBoth, share);
        }
    }

    /** {@link #sum}'s stream, one load per cache line, with 32 FMAs of eight register chains per 128 bytes, independent of the data. */
    private static float sumWithFmas(MemorySegment m, long from, long to) {
        LongVector a = LongVector.zero(LV), b = a;
        FloatVector k = FloatVector.broadcast(F, 0.999999f), e = FloatVector.broadcast(F, 1e-7f);
        FloatVector f0 = k, f1 = k, f2 = k, f3 = k, f4 = k, f5 = k, f6 = k, f7 = k;
        for (long o = from; o + 128 <= to; o += 128) {
            a = a.add(LongVector.fromMemorySegment(LV, m, o, ByteOrder.LITTLE_ENDIAN));
            b = b.add(LongVector.fromMemorySegment(LV, m, o + 64, ByteOrder.LITTLE_ENDIAN));
            f0 = k.fma(e, f0); f1 = k.fma(e, f1); f2 = k.fma(e, f2); f3 = k.fma(e, f3);
            f4 = k.fma(e, f4); f5 = k.fma(e, f5); f6 = k.fma(e, f6); f7 = k.fma(e, f7);
            f0 = k.fma(e, f0); f1 = k.fma(e, f1); f2 = k.fma(e, f2); f3 = k.fma(e, f3);
            f4 = k.fma(e, f4); f5 = k.fma(e, f5); f6 = k.fma(e, f6); f7 = k.fma(e, f7);
            f0 = k.fma(e, f0); f1 = k.fma(e, f1); f2 = k.fma(e, f2); f3 = k.fma(e, f3);
            f4 = k.fma(e, f4); f5 = k.fma(e, f5); f6 = k.fma(e, f6); f7 = k.fma(e, f7);
            f0 = k.fma(e, f0); f1 = k.fma(e, f1); f2 = k.fma(e, f2); f3 = k.fma(e, f3);
            f4 = k.fma(e, f4); f5 = k.fma(e, f5); f6 = k.fma(e, f6); f7 = k.fma(e, f7);
        }
        return a.add(b).reduceLanes(VectorOperators.ADD) + f0.add(f1).add(f2).add(f3).add(f4).add(f5).add(f6).add(f7).reduceLanes(VectorOperators.ADD);
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
