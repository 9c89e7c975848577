package jllm.model;

import java.util.Arrays;

/**
 * Where each row of a forward call sits: its position in its own sequence and the row at which
 * that sequence's keys start. Inference continues one sequence whose keys are in a KV cache from
 * position 0; training packs one or more examples into the rows, each starting again at position 0
 * and attending only within itself (a document mask: no attention across example boundaries).
 */
public final class Positions {
    public final int rows;
    final int[] pos;
    /** Row of position 0 of each row's example (null: 0 for every row, a KV cache). */
    final int[] keyBase;

    private Positions(int rows, int[] pos, int[] keyBase) {
        this.rows = rows;
        this.pos = pos;
        this.keyBase = keyBase;
    }

    /** {@code rows} tokens continuing a sequence at position {@code start}. */
    public static Positions continuing(int start, int rows) {
        int[] p = new int[rows];
        for (int t = 0; t < rows; t++) p[t] = start + t;
        return new Positions(rows, p, null);
    }

    /** {@code batch} independent sequences of {@code length} tokens each, one after another. */
    public static Positions batch(int batch, int length) {
        if (batch < 1 || length < 1) throw new IllegalArgumentException("batch " + batch + " x length " + length);
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) starts[b] = b * length;
        return packed(starts, batch * length);
    }

    /** Examples packed in one row of {@code rows} tokens, example i starting at {@code starts[i]} (0 first, increasing). */
    public static Positions packed(int[] starts, int rows) {
        if (starts.length == 0 || starts[0] != 0) throw new IllegalArgumentException("example starts must begin with 0: " + Arrays.toString(starts));
        int[] p = new int[rows], base = new int[rows];
        for (int i = 0; i < starts.length; i++) {
            int from = starts[i], to = i + 1 < starts.length ? starts[i + 1] : rows;
            if (to <= from || to > rows) throw new IllegalArgumentException("example starts must increase within " + rows + " rows: " + Arrays.toString(starts));
            for (int t = from; t < to; t++) {
                p[t] = t - from;
                base[t] = from;
            }
        }
        return new Positions(rows, p, base);
    }

    /** Examples packed in one row, one segment id per token: a new example starts wherever the id changes. */
    public static Positions segments(int[] segmentIds) {
        int n = 0;
        int[] starts = new int[segmentIds.length];
        for (int t = 0; t < segmentIds.length; t++) if (t == 0 || segmentIds[t] != segmentIds[t - 1]) starts[n++] = t;
        return packed(Arrays.copyOf(starts, n), segmentIds.length);
    }

    public int position(int row) { return pos[row]; }

    public int exampleStart(int row) { return keyBase == null ? row - pos[row] : keyBase[row]; }

    /** True when every row is at the next position of its example after the previous row (training layout). */
    boolean selfContained() {
        for (int t = 0; t < rows; t++) if (exampleStart(t) + pos[t] != t) return false;
        return true;
    }

    /**
     * Next-token targets: row t predicts {@code tokens[t + 1]} when that token belongs to the same
     * example, and nothing ({@code -100}) at each example's last token.
     */
    public int[] nextTokenLabels(int[] tokens) {
        if (tokens.length != rows) throw new IllegalArgumentException(tokens.length + " tokens for " + rows + " rows");
        int[] labels = new int[rows];
        for (int t = 0; t < rows; t++) labels[t] = t + 1 < rows && exampleStart(t + 1) == exampleStart(t) ? tokens[t + 1] : IGNORE;
        return labels;
    }

    /** transformers' ignore_index. */
    public static final int IGNORE = -100;
}
