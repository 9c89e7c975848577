package jllm.tensor;

import java.util.Arrays;

/** Shape arithmetic that refuses overflow: hostile headers must not wrap a size into something small. */
public final class Shapes {
    private Shapes() {}

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public static String str(long[] shape) {
        return Arrays.toString(shape);
    }
}
