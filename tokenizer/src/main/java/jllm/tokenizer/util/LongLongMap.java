package jllm.tokenizer.util;

/**
 * Open-addressing map from non-negative long keys to long values. BPE merge lookups run for every
 * adjacent symbol pair of every word, so they must not box or chase pointers.
 */
public final class LongLongMap {
    private long[] keys;
    private long[] vals;
    private int mask;
    private int size;

    public LongLongMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        keys = new long[cap];
        vals = new long[cap];
        java.util.Arrays.fill(keys, -1L);
        mask = cap - 1;
    }

    private static int hash(long k) {
        k *= 0x9E3779B97F4A7C15L;
        return (int) (k ^ (k >>> 29));
    }

    /** The value for key, or {@code missing}. */
    public long get(long key, long missing) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) return vals[i];
            if (k == -1L) return missing;
            i = (i + 1) & mask;
        }
    }

    /** Inserts unless present; returns false when the key was already there (first one wins). */
    public boolean putIfAbsent(long key, long val) {
        if ((size + 1) * 2 > keys.length) grow();
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) return false;
            if (k == -1L) {
                keys[i] = key;
                vals[i] = val;
                size++;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    public void put(long key, long val) {
        if ((size + 1) * 2 > keys.length) grow();
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) { vals[i] = val; return; }
            if (k == -1L) { keys[i] = key; vals[i] = val; size++; return; }
            i = (i + 1) & mask;
        }
    }

    public int size() { return size; }

    private void grow() {
        long[] ok = keys, ov = vals;
        keys = new long[ok.length * 2];
        vals = new long[ok.length * 2];
        java.util.Arrays.fill(keys, -1L);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < ok.length; i++) if (ok[i] != -1L) put(ok[i], ov[i]);
    }
}
