package jllm.doctor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.generate.Generator;
import jllm.model.Model;
import jllm.tensor.Tensor;

/**
 * Runs a model on a reference file's {@code input_ids} and measures, per hidden state and for the
 * logits, how far it is from the reference: max abs error, relative L2 error
 * {@code ||a - r|| / ||r||} and its log10. Replays {@code generate.prompt} greedily when present.
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
    }

    private ReferenceCompare() {}

    public static Result run(Model model, Path reference, double tolerance) {
        SafetensorsFile ref = SafetensorsFile.open(reference);
        if (!ref.has("input_ids")) throw new FormatException(reference + ": reference has no 'input_ids'");
        long[] shape = ref.info("input_ids").shape();
        if (shape.length != 2) throw new FormatException(reference + ": input_ids must be [batch, T], got " + Arrays.toString(shape));
        if (shape[0] < 1 || shape[1] < 1 || shape[0] * shape[1] * Math.max(model.spec.hidden, model.spec.vocab) > Integer.MAX_VALUE - 8)
            throw new FormatException(reference + ": input_ids " + Arrays.toString(shape) + " is too large to compare");
        int B = (int) shape[0], T = (int) shape[1], L = model.spec.layers, H = model.spec.hidden, V = model.spec.vocab;
        long[] ids = ref.longs("input_ids");
        for (long id : ids)
            if (id < 0 || id >= V)
                throw new FormatException(reference + ": input_ids holds " + id + ", outside the model's vocabulary (0.." + (V - 1) + "): reference made for a different model?");
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
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i <= L; i++) {
            String name = "hidden." + i;
            if (ref.has(name)) rows.add(row(name, hidden[i], expect(ref, name, hidden[i].length)));
        }
        if (ref.has("logits")) rows.add(row("logits", logits, expect(ref, "logits", logits.length)));
        String greedy = "n/a";
        int[] want = null, got = null;
        if (ref.has("generate.prompt") && ref.has("generate.output")) {
            int[] prompt = Arrays.stream(ref.longs("generate.prompt")).mapToInt(Math::toIntExact).toArray();
            int[] full = Arrays.stream(ref.longs("generate.output")).mapToInt(Math::toIntExact).toArray();
            want = Arrays.copyOfRange(full, prompt.length, full.length);
            got = new Generator(model).generate(prompt, Generator.Request.greedy(want.length));
            greedy = Arrays.equals(want, got) ? "match" : "mismatch";
        }
        return new Result(rows, greedy, want, got, tolerance);
    }

    private static float[] expect(SafetensorsFile ref, String name, int n) {
        Tensor t = ref.tensor(name);
        if (t.numel() != n) throw new FormatException(ref.source() + ": '" + name + "' has " + t.numel() + " values, the model produced " + n
                + " (reference made for a different model?)");
        return t.toFloatArray();
    }

    static Row row(String name, float[] got, float[] want) {
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
