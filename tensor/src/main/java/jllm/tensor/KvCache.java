package jllm.tensor;

/**
 * Keys and values of one sequence for every layer, created by the backend (device memory on a GPU).
 * Layer {@code l}'s keys are {@link #k}{@code (l)}: {@code [capacity, kvDim]} fp32, row {@code p}
 * = position {@code p}. Callers write new rows with {@link Backend#copy} and attend over them.
 */
public interface KvCache {
    int capacity();

    /**
     * Makes room for {@code positions} rows per layer, keeping what is stored. Throws
     * IllegalArgumentException (saying how much memory it would take) when the cache cannot fit,
     * before allocating anything.
     */
    void ensure(int positions);

    Buf k(int layer);

    Buf v(int layer);
}
