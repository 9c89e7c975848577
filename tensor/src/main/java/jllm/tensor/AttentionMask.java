package jllm.tensor;

/**
 * Which keys a query may attend to, by absolute positions; all masks are causal.
 * SLIDING(w): the w most recent keys including the query's own ({@code i - w < j <= i});
 * CHUNKED(c): keys in the query's own chunk of c positions (Llama 4).
 */
public record AttentionMask(Kind kind, int size) {
    public enum Kind { CAUSAL, SLIDING, CHUNKED }

    public static final AttentionMask CAUSAL = new AttentionMask(Kind.CAUSAL, 0);

    public static AttentionMask sliding(int window) { return new AttentionMask(Kind.SLIDING, window); }

    public static AttentionMask chunked(int chunk) { return new AttentionMask(Kind.CHUNKED, chunk); }

    public AttentionMask {
        if (kind != Kind.CAUSAL && size <= 0) throw new IllegalArgumentException(kind + " mask needs a positive size, got " + size);
    }

    /** First visible key position for a query at {@code pos} (the last is {@code pos}). */
    public int firstKey(int pos) {
        return switch (kind) {
            case CAUSAL -> 0;
            case SLIDING -> Math.max(0, pos - size + 1);
            case CHUNKED -> pos - Math.floorMod(pos, size);
        };
    }
}
