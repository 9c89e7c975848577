package jllm.doctor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.model.Grads;
import jllm.model.Model;
import jllm.model.Positions;
import jllm.tensor.Buf;
import jllm.train.Gradients;
import jllm.train.HfTensors;

/**
 * Compares the training engine with a transformers reference: on the reference's
 * {@code input_ids [B, T]} computes the mean next-token cross-entropy (labels = input_ids, shifted;
 * every one of the B (T - 1) targets counts) and the gradient of every parameter, and measures them
 * against the reference's {@code loss} and {@code grad.<name>} (transformers 5 in-memory names,
 * fused experts included).
 */
public final class GradCompare {
    /** Largest relative error of the loss that passes. */
    public static final double LOSS_TOLERANCE = 1e-5;
    /** Largest relative L2 error of any gradient that passes. */
    public static final double GRAD_TOLERANCE = 1e-4;

    public record Result(double loss, double refLoss, List<ReferenceCompare.Row> rows, List<String> missing) {
        public double lossErr() { return Math.abs(loss - refLoss) / Math.max(Math.abs(refLoss), 1e-30); }

        public double maxGradErr() { return rows.stream().mapToDouble(ReferenceCompare.Row::relL2).max().orElse(0); }

        public boolean pass() {
            return lossErr() <= LOSS_TOLERANCE && maxGradErr() <= GRAD_TOLERANCE && missing.isEmpty() && !rows.isEmpty()
                    && rows.stream().allMatch(r -> Double.isFinite(r.relL2()));
        }
    }

    private GradCompare() { }

    /** The per-tensor table: loss first, then each gradient's max abs and relative L2 error. */
    public static void print(Result r, java.io.PrintWriter out) {
        out.printf(java.util.Locale.ROOT, "%-56s %14s %14s %10s%n", "gradient", "max_abs_err", "rel_l2_err", "log10");
        out.printf(java.util.Locale.ROOT, "%-56s %14.6f %14.3e %10.2f  (reference %.6f)%n", "loss", r.loss(), r.lossErr(),
                Math.log10(Math.max(r.lossErr(), 1e-30)), r.refLoss());
        for (ReferenceCompare.Row row : r.rows())
            out.printf(java.util.Locale.ROOT, "%-56s %14.3e %14.3e %10.2f%n", row.name(), row.maxAbs(), row.relL2(), row.log10());
        for (String m : r.missing()) out.println("missing gradient: " + m);
    }

    /**
     * A reference gradient this much smaller than the largest one is zero in exact arithmetic and float
     * noise in the reference (e.g. a top-1 router with renormalised weights: p / p = 1 has no gradient,
     * torch leaves ~1e-9). Its error is measured against the largest gradient's norm instead of its own.
     */
    static final double NUMERICALLY_ZERO = 1e-6;

    static ReferenceCompare.Row row(String name, float[] got, float[] want, double maxNorm) {
        ReferenceCompare.Row r = ReferenceCompare.row(name, got, want);
        double n = norm(want);
        if (maxNorm == 0 || n >= NUMERICALLY_ZERO * maxNorm) return r;
        double diff = 0;
        for (int i = 0; i < got.length; i++) { double d = (double) got[i] - want[i]; diff += d * d; }
        return new ReferenceCompare.Row(name + " (reference ~0)", r.maxAbs(), Math.sqrt(diff) / maxNorm);
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }

    public static Result run(Model model, Path reference, boolean checkpointing) {
        SafetensorsFile ref = SafetensorsFile.open(reference);
        if (!ref.has("input_ids")) throw new FormatException(reference + ": reference has no 'input_ids'");
        if (!ref.has("loss")) throw new FormatException(reference + ": reference has no 'loss' (made without gradients?)");
        long[] shape = ref.info("input_ids").shape();
        if (shape.length != 2) throw new FormatException(reference + ": input_ids must be [batch, T], got " + Arrays.toString(shape));
        int B = (int) shape[0], T = (int) shape[1];
        if (T < 2) throw new FormatException(reference + ": input_ids needs at least 2 tokens per row for a next-token loss");
        int[] tokens = Arrays.stream(ref.longs("input_ids")).mapToInt(Math::toIntExact).toArray();
        Positions p = Positions.batch(B, T);
        int[] labels = p.nextTokenLabels(tokens);
        int targets = Gradients.targets(labels);
        Grads g = Gradients.allWeights(model);
        double loss = Gradients.accumulate(model, tokens, p, labels, targets, g, checkpointing) / targets;

        Map<String, HfTensors.Named> ours = HfTensors.assemble(model.weights, k -> {
            Buf b = g.of(k);
            return b == null ? null : Gradients.download(model.backend(), b);
        });
        List<ReferenceCompare.Row> rows = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<float[][]> pairs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        double maxNorm = 0;
        TreeSet<String> refNames = new TreeSet<>();
        for (String n : ref.names()) if (n.startsWith("grad.")) refNames.add(n.substring(5));
        for (String name : refNames) {
            HfTensors.Named got = ours.get(name);
            if (got == null) { missing.add("ours:" + name); continue; }
            long[] want = ref.info("grad." + name).shape();
            if (!Arrays.equals(want, got.shape()))
                throw new FormatException(reference + ": grad." + name + " has shape " + Arrays.toString(want) + ", the model's is " + Arrays.toString(got.shape()));
            float[] values = ref.tensor("grad." + name).toFloatArray();
            pairs.add(new float[][] {got.data(), values});
            names.add(name);
            maxNorm = Math.max(maxNorm, norm(values));
        }
        for (int i = 0; i < pairs.size(); i++) rows.add(row(names.get(i), pairs.get(i)[0], pairs.get(i)[1], maxNorm));
        for (String name : ours.keySet()) if (!refNames.contains(name)) missing.add("reference:" + name);
        return new Result(loss, ref.tensor("loss").toFloatArray()[0], rows, missing);
    }
}
