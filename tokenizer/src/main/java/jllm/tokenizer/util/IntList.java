package jllm.tokenizer.util;

import java.util.Arrays;

/** Growable int array: token ids are collected without boxing. */
public final class IntList {
    private int[] a;
    private int n;

    public IntList() { this(16); }
    public IntList(int cap) { a = new int[Math.max(4, cap)]; }

    public void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[n++] = v;
    }

    public void addAll(int[] v) {
        if (n + v.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
        System.arraycopy(v, 0, a, n, v.length);
        n += v.length;
    }

    public void addAll(IntList v) {
        if (n + v.n > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.n));
        System.arraycopy(v.a, 0, a, n, v.n);
        n += v.n;
    }

    public int get(int i) { return a[i]; }
    public void set(int i, int v) { a[i] = v; }
    public int size() { return n; }
    public void clear() { n = 0; }
    public void truncate(int size) { n = Math.min(n, size); }
    public int[] toArray() { return Arrays.copyOf(a, n); }
}
