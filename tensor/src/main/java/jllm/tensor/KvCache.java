package jllm.tensor;

/**
 * Keys and values of one sequence for every layer, created by the backend ({@link Backend#kvCache})
 * in the layout and precision its attention kernels read (the CPU: keys transposed in tiles of 16
 * positions, values position-major, fp32, f16 or Q8_0). Callers store rows with
 * {@link Backend#kvStore} and attend over them with the cache form of {@link Backend#attention}.
 */
public interface KvCache {
    KvType type();

    int capacity();

    /**
     * Makes room for {@code positions} rows per layer, keeping what is stored. Throws
     * IllegalArgumentException (saying how much memory it would take) when the cache cannot fit,
     * before allocating anything.
     */
    void ensure(int positions);

    /**
     * Keys and values of positions {@code 0 .. positions - 1} of layer {@code layer} as fp32
     * {@code [positions, kvHeads * headDim]} host arrays (what the cache's type keeps of them), for
     * reference modes and tests; not a fast path.
     */
    float[][] read(int layer, int positions);
}
