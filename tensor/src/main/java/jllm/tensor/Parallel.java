package jllm.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over a fixed pool of worker threads. Work is cut into roughly equal
 * contiguous chunks (a few per thread, so uneven rows still balance) and the caller joins.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody { void run(int from, int to); }

    private final ForkJoinPool pool;
    private final int threads;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() { return threads; }

    /** Runs {@code body} over {@code [0, n)}; {@code minChunk} keeps tiny work on one thread. */
    public void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, minChunk)));
        if (pool == null || chunks <= 1) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Split(body, 0, chunks, n, chunks));
    }

    private static final class Split extends RecursiveAction {
        final RangeBody body;
        final int lo, hi, n, chunks;

        Split(RangeBody body, int lo, int hi, int n, int chunks) {
            this.body = body; this.lo = lo; this.hi = hi; this.n = n; this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run((int) ((long) n * lo / chunks), (int) ((long) n * hi / chunks));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, lo, mid, n, chunks), new Split(body, mid, hi, n, chunks));
        }
    }
}
