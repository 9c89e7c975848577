package jllm.train.data;

/**
 * One training row: several examples placed one after another. Attention must not cross from one
 * example into another and positions restart at 0 for each, so a packed row trains exactly like the
 * examples one by one.
 *
 * @param tokens        input ids
 * @param labels        the id where the loss applies, {@link ExampleEncoder#IGNORE} elsewhere (aligned with
 *                      tokens, as Hugging Face's {@code labels}; {@link #targets()} gives the shifted form)
 * @param positions     RoPE position of each token within its example
 * @param segments      which example of the row each token belongs to (0, 1, 2, ...): a token may attend
 *                      only to earlier tokens of the same segment
 * @param exampleStarts index of each example's first token (segment k spans exampleStarts[k] up to the next start)
 */
public record PackedRow(int[] tokens, int[] labels, int[] positions, int[] segments, int[] exampleStarts) {
    public int length() { return tokens.length; }

    /**
     * Next-token targets: {@code targets[i]} is the label of token i+1 when it belongs to the same
     * example, else {@link ExampleEncoder#IGNORE} (the last token of an example predicts nothing: the
     * next example is unrelated).
     */
    public int[] targets() {
        int n = tokens.length;
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i + 1 < n && segments[i + 1] == segments[i] ? labels[i + 1] : ExampleEncoder.IGNORE;
        return t;
    }

    /** How many tokens the loss is taken on (for normalising by the total over a step's micro-batches). */
    public int targetCount() {
        int c = 0;
        for (int t : targets()) if (t != ExampleEncoder.IGNORE) c++;
        return c;
    }

    /** The row padded to {@code len} with {@code padId}; padding is its own segment (-1) and is never a target. */
    public PackedRow padTo(int len, int padId) {
        int n = tokens.length;
        if (len < n) throw new IllegalArgumentException("row of " + n + " tokens cannot be padded to " + len);
        int[] tk = java.util.Arrays.copyOf(tokens, len), lb = java.util.Arrays.copyOf(labels, len), ps = java.util.Arrays.copyOf(positions, len),
                sg = java.util.Arrays.copyOf(segments, len);
        java.util.Arrays.fill(tk, n, len, padId);
        java.util.Arrays.fill(lb, n, len, ExampleEncoder.IGNORE);
        java.util.Arrays.fill(sg, n, len, -1);
        return new PackedRow(tk, lb, ps, sg, exampleStarts);
    }
}
