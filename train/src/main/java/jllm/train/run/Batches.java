package jllm.train.run;

import java.util.ArrayList;
import java.util.List;
import jllm.model.Positions;
import jllm.train.TrainStep;
import jllm.train.data.PackedRow;
import jllm.train.data.SplitMix64;
import jllm.train.data.TrainingData;

/** The two sources: a fine-tuning dataset's packed rows, and a tokenized text cut into chunks. */
public final class Batches {
    private Batches() { }

    /**
     * Several rows as one micro-batch: their tokens one after another, each example keeping its own
     * positions and attention (rows never see each other), so it trains exactly as the rows would one
     * by one, with one call per matrix instead of one per row.
     */
    static TrainStep.Batch concat(List<PackedRow> rows) {
        int n = 0;
        for (PackedRow r : rows) n += r.length();
        int[] tokens = new int[n], targets = new int[n], seg = new int[n];
        int at = 0, segBase = 0;
        for (PackedRow r : rows) {
            System.arraycopy(r.tokens(), 0, tokens, at, r.length());
            System.arraycopy(r.targets(), 0, targets, at, r.length());
            int maxSeg = 0;
            for (int i = 0; i < r.length(); i++) {
                seg[at + i] = segBase + r.segments()[i];
                maxSeg = Math.max(maxSeg, r.segments()[i]);
            }
            segBase += maxSeg + 1;
            at += r.length();
        }
        return new TrainStep.Batch(tokens, Positions.segments(seg), targets);
    }

    /** A fine-tuning dataset ({@link TrainingData}): units are its packed rows, epochs its seeded orders. */
    public static BatchSource of(TrainingData data) {
        return new BatchSource() {
            private int cachedEpoch = -1;
            private int[] order;

            @Override public int size() { return data.train().size(); }

            @Override
            public synchronized TrainStep.Batch batch(int epoch, int from, int to) {
                if (epoch != cachedEpoch) {
                    order = data.epochOrder(epoch);
                    cachedEpoch = epoch;
                }
                List<PackedRow> rows = new ArrayList<>();
                for (int i = from; i < to; i++) rows.add(data.train().get(order[i]));
                return concat(rows);
            }

            @Override
            public List<TrainStep.Batch> validation(int unitsPerBatch) {
                List<TrainStep.Batch> out = new ArrayList<>();
                List<PackedRow> v = data.validation();
                for (int i = 0; i < v.size(); i += unitsPerBatch) out.add(concat(v.subList(i, Math.min(v.size(), i + unitsPerBatch))));
                return out;
            }
        };
    }

    /**
     * A token stream cut into consecutive chunks: each chunk is an example starting at position 0.
     * Without a BOS ({@code bos < 0}) a chunk is {@code seq} tokens and every token predicts the one after
     * it in the stream, the one after the chunk's end included (every token but the stream's first is
     * a target). With a BOS, a chunk is the BOS followed by {@code seq - 1} tokens, each predicted from
     * the BOS and the chunk's earlier tokens (every token of the stream is a target exactly once), as
     * a generation prompted with BOS + text sees it. Training chunks are visited in a seeded order per
     * epoch; validation chunks in text order.
     */
    public static BatchSource text(int[] train, int[] validation, long validationChars, int seq, int bos, long seed) {
        return text(train, validation, validationChars, seq, bos, -1, seed);
    }

    /** As above; {@code notScored} is a token id that validation does not score (inserted document ends), or -1. */
    public static BatchSource text(int[] train, int[] validation, long validationChars, int seq, int bos, int notScored, long seed) {
        if (seq < (bos >= 0 ? 2 : 1)) throw new IllegalArgumentException("--max-seq " + seq + " is too short");
        int nTrain = chunks(train.length, seq, bos);
        if (nTrain == 0) throw new IllegalArgumentException("the training text has fewer than 2 tokens");
        return new BatchSource() {
            private int cachedEpoch = -1;
            private int[] order;

            @Override public int size() { return nTrain; }

            @Override
            public synchronized TrainStep.Batch batch(int epoch, int from, int to) {
                if (epoch != cachedEpoch) {
                    order = SplitMix64.of(seed, 1000L + epoch).permutation(nTrain);
                    cachedEpoch = epoch;
                }
                int[] idx = new int[to - from];
                for (int i = from; i < to; i++) idx[i - from] = order[i];
                return chunkBatch(train, seq, bos, idx);
            }

            @Override
            public List<TrainStep.Batch> validation(int unitsPerBatch) {
                List<TrainStep.Batch> out = new ArrayList<>();
                int n = chunks(validation.length, seq, bos);
                for (int c = 0; c < n; c += unitsPerBatch) {
                    int[] idx = new int[Math.min(unitsPerBatch, n - c)];
                    for (int i = 0; i < idx.length; i++) idx[i] = c + i;
                    TrainStep.Batch b = chunkBatch(validation, seq, bos, idx);
                    if (notScored >= 0) for (int i = 0; i < b.targets().length; i++) if (b.targets()[i] == notScored) b.targets()[i] = Positions.IGNORE;
                    out.add(b);
                }
                return out;
            }

            @Override public long validationChars() { return validationChars; }
        };
    }

    /** Chunks holding at least one target. */
    static int chunks(int tokens, int seq, int bos) {
        if (bos >= 0) return (tokens + seq - 2) / (seq - 1);
        return tokens < 2 ? 0 : (tokens - 1 + seq - 1) / seq;
    }

    static TrainStep.Batch chunkBatch(int[] stream, int seq, int bos, int[] chunkIds) {
        int text = bos >= 0 ? seq - 1 : seq, n = 0;
        int[] lens = new int[chunkIds.length];
        for (int k = 0; k < chunkIds.length; k++) {
            int from = chunkIds[k] * text;
            lens[k] = bos >= 0 ? Math.min(text, stream.length - from) : Math.min(text, stream.length - 1 - from);
            n += lens[k] + (bos >= 0 ? 1 : 0);
        }
        int[] tokens = new int[n], targets = new int[n], starts = new int[chunkIds.length];
        int at = 0;
        for (int k = 0; k < chunkIds.length; k++) {
            int from = chunkIds[k] * text, len = lens[k];
            starts[k] = at;
            if (bos >= 0) {
                tokens[at] = bos;
                System.arraycopy(stream, from, tokens, at + 1, len);
                System.arraycopy(stream, from, targets, at, len);
                targets[at + len] = Positions.IGNORE;
                at += len + 1;
            } else {
                System.arraycopy(stream, from, tokens, at, len);
                System.arraycopy(stream, from + 1, targets, at, len);
                at += len;
            }
        }
        return new TrainStep.Batch(tokens, Positions.packed(starts, n), targets);
    }
}
