package jllm.doctor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.generate.Generator;
import jllm.model.Model;
import jllm.tensor.Tensor;

/**
 * Runs a model on a reference file's {@code input_ids} and measures, per hidden state and for the
 * logits, how far it is from the reference: max abs error, relative L2 error
 * {@code ||a - r|| / ||r||} and its log10. Replays {@code generate.prompt} greedily when present,
 * the way the reference was made: with {@code min_new_tokens = T}, so end-of-sequence tokens are
 * banned for all T steps (a model whose EOS is the argmax mid-way still runs the full T steps).
 * A reference whose output holds an end id was made without the ban, and is replayed without it.
 */
public final class ReferenceCompare {
    public record Row(String name, double maxAbs, double relL2) {
        public double log10() { return relL2 == 0 ? Double.NEGATIVE_INFINITY : Math.log10(relL2); }
    }

    public record Result(List<Row> rows, String greedy, int[] expected, int[] got, double tolerance) {
        public double maxRel() { return rows.stream().mapToDouble(Row::relL2).max().orElse(0); }

        public boolean pass() {
            return maxRel() <= tolerance && !greedy.equals("mismatch") && rows.stream().allMatch(r -> Double.isFinite(r.relL2));
        }

        /** The first generated position where the two greedy runs differ, or -1. */
        public int firstDivergence() {
            if (expected == null || got == null) return -1;
            for (int i = 0; i < Math.min(expected.length, got.length); i++) if (expected[i] != got[i]) return i;
            return expected.length == got.length ? -1 : Math.min(expected.length, got.length);
        }
    }

    /**
     * What a forward pass produced for a batch of equal-length sequences: {@code hidden[i]} is hidden
     * state i ({@code [B, T, H]} flattened, 0 = embeddings, L = after the final norm; null when
     * absent) and {@code logits} {@code [B, T, V]}.
     */
    public record Trace(float[][] hidden, float[] logits, int batch, int tokens) {
        /** Runs every sequence of {@code ids} ({@code [B, T]} flattened) through the model, one sequence at a time. */
        public static Trace of(Model model, long[] ids, int B, int T) {
            int L = model.spec.layers, H = model.spec.hidden, V = model.spec.vocab;
            float[][] hidden = new float[L + 1][B * T * H];
            float[] logits = new float[B * T * V];
            for (int b = 0; b < B; b++) {
                int[] seq = new int[T];
                for (int t = 0; t < T; t++) seq[t] = Math.toIntExact(ids[b * T + t]);
                final int bb = b;
                float[] lg = model.forward(model.newState(), seq, true,
                        (i, x, rows, width) -> System.arraycopy(x, 0, hidden[i], bb * T * H, T * H));
                System.arraycopy(lg, 0, logits, b * T * V, T * V);
            }
            return new Trace(hidden, logits, B, T);
        }

        public static String name(int i) { return "hidden." + i; }
    }

    private ReferenceCompare() {}

    public static Result run(Model model, Path reference, double tolerance) {
        return run(model, reference, tolerance, endIds(model));
    }

    /**
     * As {@link #run(Model, Path, double)}; {@code endIds} are the end-of-sequence ids the reference's
     * generation banned (generation_config.json's {@code eos_token_id}, else config.json's).
     */
    public static Result run(Model model, Path reference, double tolerance, Set<Integer> endIds) {
        SafetensorsFile ref = SafetensorsFile.open(reference);
        List<Row> rows = Expected.read(ref, model).rows(model);
        String greedy = "n/a";
        int[] want = null, out = null;
        if (ref.has("generate.prompt") && ref.has("generate.output")) {
            int[] prompt = ints(ref.longs("generate.prompt"));
            int[] full = ints(ref.longs("generate.output"));
            if (full.length < prompt.length || !Arrays.equals(prompt, Arrays.copyOf(full, prompt.length)))
                throw new FormatException(reference + ": generate.output does not start with generate.prompt");
            want = Arrays.copyOfRange(full, prompt.length, full.length);
            // A reference made with min_new_tokens = T cannot contain an end id; one that does was made
            // with end-of-sequence merely not stopping generation (e.g. eos_token_id=None), so replay that way.
            Set<Integer> ban = endIds;
            for (int t : want) if (endIds.contains(t)) { ban = Set.of(); break; }
            out = replay(model, prompt, want.length, ban);
            greedy = Arrays.equals(want, out) ? "match" : "mismatch";
        }
        return new Result(rows, greedy, want, out, tolerance);
    }

    /**
     * What a reference file holds for a model to be compared with, read once: its {@code input_ids}
     * ({@code [batch, T]}) and, by name, the hidden states and logits it has ({@code hidden.0 ...
     * hidden.L}, {@code logits}), each checked against the size the model produces.
     */
    public record Expected(long[] ids, int batch, int tokens, Map<String, float[]> tensors) {
        public static Expected read(SafetensorsFile ref, Model model) {
            long[] shape = inputShape(ref);
            int B = (int) shape[0], T = (int) shape[1], L = model.spec.layers, H = model.spec.hidden, V = model.spec.vocab;
            if (shape[0] * shape[1] * Math.max(H, V) > Integer.MAX_VALUE - 8)
                throw new FormatException(ref.source() + ": input_ids " + Arrays.toString(shape) + " is too large to compare with this model");
            long[] ids = ref.longs("input_ids");
            for (long id : ids)
                if (id < 0 || id >= V)
                    throw new FormatException(ref.source() + ": input_ids holds " + id + ", outside the model's vocabulary (0.." + (V - 1)
                            + "): reference made for a different model?");
            Map<String, float[]> t = new LinkedHashMap<>();
            for (int i = 0; i <= L; i++)
                if (ref.has(Trace.name(i))) t.put(Trace.name(i), expect(ref, Trace.name(i), B * T * H));
            if (ref.has("logits")) t.put("logits", expect(ref, "logits", B * T * model.spec.vocab));
            return new Expected(ids, B, T, t);
        }

        /** Runs {@code model} on the ids and measures each tensor the reference has. */
        public List<Row> rows(Model model) {
            return rows(Trace.of(model, ids, batch, tokens));
        }

        public List<Row> rows(Trace got) {
            List<Row> rows = new ArrayList<>();
            for (var e : tensors.entrySet()) {
                float[] mine = e.getKey().equals("logits") ? got.logits() : got.hidden()[Integer.parseInt(e.getKey().substring("hidden.".length()))];
                rows.add(row(e.getKey(), mine, e.getValue()));
            }
            return rows;
        }
    }

    /** The {@code [batch, T]} shape of a reference's {@code input_ids}, checked. */
    public static long[] inputShape(SafetensorsFile ref) {
        if (!ref.has("input_ids")) throw new FormatException(ref.source() + ": reference has no 'input_ids'");
        long[] shape = ref.info("input_ids").shape();
        if (shape.length != 2 || shape[0] <= 0 || shape[1] <= 0 || shape[0] * shape[1] > (1 << 24))
            throw new FormatException(ref.source() + ": input_ids must be [batch, T] with batch, T > 0, got " + Arrays.toString(shape));
        return shape;
    }

    /**
     * Greedy decoding of exactly {@code steps} tokens with {@code endIds} banned throughout, as
     * transformers' {@code generate(do_sample=False, min_new_tokens=steps, max_new_tokens=steps)}.
     */
    public static int[] replay(Model model, int[] prompt, int steps, Set<Integer> endIds) {
        return new Generator(model).generate(prompt, Generator.Request.greedy(steps).withMinTokens(steps, endIds));
    }

    /** The end-of-sequence ids the model's own config names. */
    public static Set<Integer> endIds(Model model) {
        Set<Integer> s = new LinkedHashSet<>();
        for (int e : model.spec.eosIds) s.add(e);
        return s;
    }

    static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    private static float[] expect(SafetensorsFile ref, String name, int n) {
        Tensor t = ref.tensor(name);
        if (t.numel() != n) throw new FormatException(ref.source() + ": '" + name + "' has " + t.numel() + " values, the model produced " + n
                + " (reference made for a different model?)");
        return t.toFloatArray();
    }

    public static Row row(String name, float[] got, float[] want) {
        double maxAbs = 0, diff = 0, norm = 0;
        for (int i = 0; i < got.length; i++) {
            double d = (double) got[i] - want[i];
            maxAbs = Math.max(maxAbs, Math.abs(d));
            if (Double.isNaN(d)) maxAbs = Double.NaN;
            diff += d * d;
            norm += (double) want[i] * want[i];
        }
        double rel = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
        return new Row(name, maxAbs, rel);
    }
}
