package jllm.tensor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges over worker threads that spin briefly between jobs. A decode step issues
 * over a hundred small matmuls of tens of microseconds each, so handing work over must cost far less
 * than a ForkJoin split; workers busy-wait for {@link #SPIN_NANOS} after each job and then park.
 * Chunks (up to 16 per thread, so the wait for the last one is short; 4 for streaming work, see
 * {@link #streamChunk}) are claimed from an atomic counter, so a slow thread does not hold up the rest.
 * Pools are shared per thread count (daemon threads), and a call made while the pool is busy (nested
 * or from another thread) simply runs on the caller.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody { void run(int from, int to); }

    private static final long SPIN_NANOS = 300_000;
    private static final int CHUNKS_PER_THREAD = 16;
    private static final ConcurrentHashMap<Integer, Parallel> SHARED = new ConcurrentHashMap<>();

    private final int threads;
    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job job;

    private static final class Job {
        final RangeBody body;
        final int n, chunks, align;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable error;

        Job(RangeBody body, int n, int chunks, int align) {
            this.body = body; this.n = n; this.chunks = chunks; this.align = align;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    int from = bound(c), to = bound(c + 1);
                    if (from < to) body.run(from, to);
                } catch (Throwable t) {
                    if (error == null) error = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        private int bound(int c) {
            if (c >= chunks) return n;
            long b = (long) n * c / chunks;
            return (int) Math.min(n, b / align * align);
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(int i) {
            super("jllm-worker-" + threads + "-" + i);
            setDaemon(true);
        }

        @Override
        public void run() {
            Job last = null;
            while (true) {
                Job j = job;
                if (j != null && j != last) {
                    last = j;
                    j.work();
                    continue;
                }
                long start = System.nanoTime();
                int spins = 0;
                while ((j = job) == last) {
                    if ((++spins & 63) != 0) { Thread.onSpinWait(); continue; }
                    long idle = System.nanoTime() - start;
                    if (idle < SPIN_NANOS / 4) continue;
                    if (idle < SPIN_NANOS) { Thread.yield(); continue; }
                    parked = true;
                    if (job == last) LockSupport.park(this);
                    parked = false;
                }
            }
        }
    }

    /** A pool of {@code threads} (the caller counts as one), shared with every other user of the same count. */
    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
    }

    /** The shared pool for {@code threads}. */
    public static Parallel shared(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return SHARED.computeIfAbsent(threads, Parallel::new);
    }

    public int threads() { return threads; }

    /** Chunks per thread for streaming work ({@link #streamChunk}). */
    private static final int STREAM_CHUNKS_PER_THREAD = 4;

    /**
     * The minimum chunk for work that streams its data once from memory (decode matmuls): about
     * {@value #STREAM_CHUNKS_PER_THREAD} chunks per thread, so each thread reads a few long runs of
     * weights. At 16 per thread, decode of a 1B model's layer shapes ran 4-7% slower (Q4_0, Q4_K,
     * Q8_0; F16 2%; paired passes, 2 threads, AMD EPYC): each new chunk restarts the hardware
     * prefetchers' stream. 4 rather than 1 or 2 (1-2% more), so that a thread the OS delays briefly
     * leaves less work behind.
     */
    public int streamChunk(int n) {
        int parts = threads * STREAM_CHUNKS_PER_THREAD;
        return Math.max(1, (n + parts - 1) / parts);
    }

    /** Runs {@code body} over {@code [0, n)}; {@code minChunk} keeps tiny work on one thread. */
    public void forRange(int n, int minChunk, RangeBody body) {
        forRange(n, minChunk, 1, body);
    }

    /** As {@link #forRange(int, int, RangeBody)} with chunk boundaries on multiples of {@code align}. */
    public void forRange(int n, int minChunk, int align, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(threads * CHUNKS_PER_THREAD, Math.max(1, n / Math.max(1, minChunk)));
        if (threads == 1 || chunks <= 1 || !busy.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            start();
            Job j = new Job(body, n, chunks, Math.max(1, align));
            job = j;
            for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
            j.work();
            awaitDone(j);
            if (j.error instanceof RuntimeException e) throw e;
            if (j.error instanceof Error e) throw e;
            if (j.error != null) throw new RuntimeException(j.error);
        } finally {
            busy.set(false);
        }
    }

    /**
     * Waits for chunks other threads still hold: spins first (they end within microseconds on an idle
     * machine), then yields, so that on an oversubscribed machine a descheduled worker gets the core.
     */
    private static void awaitDone(Job j) {
        long start = 0;
        for (int spins = 0; j.done.get() < j.chunks; spins++) {
            if (spins < 1024) { Thread.onSpinWait(); continue; }
            if (start == 0) start = System.nanoTime();
            if (System.nanoTime() - start < 20_000) Thread.onSpinWait();
            else Thread.yield();
        }
    }

    private void start() {
        if (workers.length == 0 || workers[0] != null) return;
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i);
            workers[i].start();
        }
    }
}
