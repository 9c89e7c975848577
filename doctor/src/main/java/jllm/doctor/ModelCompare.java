package jllm.doctor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import jllm.model.Model;

/**
 * Runs two models on the same token ids and measures, hidden state by hidden state and for the
 * logits, how far the second is from the first: two checkpoints of one model, or one model in two
 * formats (safetensors vs GGUF, F32 vs Q8_0). Both must have the same geometry (layers, hidden
 * size, vocabulary). Greedy decoding from the same prompt is compared too, with end-of-sequence
 * tokens banned so both run the full number of steps.
 */
public final class ModelCompare {
    private ModelCompare() {}

    /**
     * @param ids    {@code [batch, T]} token ids, flattened
     * @param prompt greedy prompt, or null to skip the greedy comparison
     */
    public static ReferenceCompare.Result run(Model base, Model other, long[] ids, int batch, int T, int[] prompt, int steps,
                                              Set<Integer> endIds, double tolerance) {
        checkSameGeometry(base, other);
        for (long id : ids)
            if (id < 0 || id >= base.spec.vocab) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + base.spec.vocab + ")");
        ReferenceCompare.Trace a = ReferenceCompare.Trace.of(base, ids, batch, T), b = ReferenceCompare.Trace.of(other, ids, batch, T);
        List<ReferenceCompare.Row> rows = new ArrayList<>();
        for (int i = 0; i < a.hidden().length; i++)
            rows.add(ReferenceCompare.row(ReferenceCompare.Trace.name(i), b.hidden()[i], a.hidden()[i]));
        rows.add(ReferenceCompare.row("logits", b.logits(), a.logits()));
        String greedy = "n/a";
        int[] want = null, got = null;
        if (prompt != null && steps > 0) {
            want = ReferenceCompare.replay(base, prompt, steps, endIds);
            got = ReferenceCompare.replay(other, prompt, steps, endIds);
            greedy = Arrays.equals(want, got) ? "match" : "mismatch";
        }
        return new ReferenceCompare.Result(rows, greedy, want, got, tolerance);
    }

    static void checkSameGeometry(Model a, Model b) {
        var s = a.spec;
        var t = b.spec;
        if (s.layers != t.layers || s.hidden != t.hidden || s.vocab != t.vocab)
            throw new IllegalArgumentException("the models differ in shape (layers/hidden/vocabulary " + s.layers + "/" + s.hidden + "/" + s.vocab
                    + " vs " + t.layers + "/" + t.hidden + "/" + t.vocab + "); only models of one geometry compare layer by layer");
    }

    /** Deterministic pseudo-random ids in [0, vocab) for comparing two models without a reference. */
    public static long[] randomIds(int batch, int T, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        long[] ids = new long[batch * T];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }
}
