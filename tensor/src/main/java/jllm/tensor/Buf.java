package jllm.tensor;

/**
 * An fp32 activation (or gradient) buffer owned by a {@link Backend}: the backend allocates it and
 * only that backend's calls read or write it, so a device backend keeps it in device memory and
 * nothing is copied to the host between operations. Model code never looks inside; it moves data
 * across with {@link Backend#upload} / {@link Backend#download} where the host needs it (token ids
 * in, logits out).
 */
public abstract class Buf {
    private final int size;

    protected Buf(int size) {
        if (size < 0) throw new IllegalArgumentException("buffer size " + size);
        this.size = size;
    }

    /** Number of fp32 elements. */
    public final int size() { return size; }

    @Override
    public String toString() { return getClass().getSimpleName() + "[" + size + "]"; }
}
