package jllm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import jllm.doctor.ErrorChart;
import jllm.doctor.LowPrecision;
import jllm.doctor.ModelCompare;
import jllm.doctor.ModelFiles;
import jllm.doctor.ReferenceCompare;
import jllm.doctor.chart.LineChart;
import jllm.doctor.report.HtmlReport;
import jllm.doctor.variants.VariantReport;
import jllm.doctor.variants.VariantSearch;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.tensor.Precision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare a model layer by layer: against a transformers reference (--reference), or against a second model",
                "(--against: another checkpoint, or the same model in another format such as GGUF), on the same token ids,",
                "or against itself computed in another precision (--precision bf16 [--against-precision fp32]).",
                "Greedy generation is replayed as the references were made: end-of-sequence tokens banned for all steps (min_new_tokens).",
                "Last line: RESULT max_rel_err=... greedy=match|mismatch|n/a PASS|FAIL (exit 0/1).",
                "--variants re-runs the model with implementation variants toggled (activation, RoPE / embedding-scale / softmax",
                "precision, norm upcast and offset, soft-capping) and ranks them by their error against --reference;",
                "last line: RESULT best=... (exit 0 when the model's own settings rank first, 1 when a variant explains the reference better)."})
final class DoctorCompareCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory or file (the baseline)")
    Path model;

    @Option(names = "--reference", description = "Reference safetensors (input_ids, hidden.*, logits, generate.*)")
    Path reference;

    @Option(names = "--against", description = "Second model to compare with --model on the same inputs (another checkpoint or format)")
    Path against;

    @Option(names = "--prompt-ids", split = ",", description = "With --against and no --reference: the token ids to run (default: seeded random ids)")
    int[] promptIds;

    @Option(names = "--tokens", defaultValue = "16", description = "With --against and no ids given: how many random ids to run (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--greedy-tokens", defaultValue = "16", description = "With --against and no reference: greedy steps to compare (default ${DEFAULT-VALUE})")
    int greedyTokens;

    @Option(names = "--tolerance", defaultValue = "1e-5", description = "Largest relative L2 error that passes (default ${DEFAULT-VALUE})")
    double tolerance;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--precision", split = ",", description = "Compute --model as a PyTorch model held in this dtype does: fp32, bf16 or fp16 "
            + "(weights and every op's output rounded, fp32 norms/softmax/RoPE as transformers has them). Several (bf16,fp16) draw one line each. "
            + "Default: the reference's compute_dtype metadata when it has one, else fp32")
    List<String> precisions;

    @Option(names = "--against-precision", description = "The precision of the run --model is measured against when no --reference is given "
            + "(--against, or --model itself; default fp32)")
    String againstPrecision;

    @Option(names = "--variants", description = "With --reference: rank implementation variants of --model by their error against the reference")
    boolean variants;

    @Option(names = "--search", defaultValue = "auto", description = "With --variants: auto (full product up to " + VariantSearch.FULL_LIMIT
            + " combinations, else coordinate search), full or coordinate (default ${DEFAULT-VALUE})")
    String search;

    @Option(names = "--json", description = "With --variants: print {\"variants\": [{\"settings\": {...}, \"max_rel_err\": ...}, ...]} best first")
    boolean json;

    @Option(names = "--grads", description = "With --reference: also compare the loss and every parameter gradient with the reference's "
            + "loss and grad.* (PASS needs loss rel err <= 1e-5 and every gradient <= 1e-4 rel L2)")
    boolean grads;

    @picocli.CommandLine.Mixin
    DoctorOutputs out;

    @Override
    public Integer call() {
        List<Precision> mine = precisions == null ? null : precisions.stream().map(Precision::of).distinct().toList();
        Precision theirs = againstPrecision == null ? Precision.FP32 : Precision.of(againstPrecision);
        boolean comparePrecisions = reference == null && against == null && (mine != null || againstPrecision != null);
        if (reference == null && against == null && !comparePrecisions)
            throw new IllegalArgumentException("give --reference FILE, --against MODEL, both, or --precision P to compare precisions");
        if (grads && reference == null) throw new IllegalArgumentException("--grads needs --reference");
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) throw new IllegalArgumentException("--tolerance must be a finite number >= 0, got " + tolerance);
        if (variants && (reference == null || against != null || grads))
            throw new IllegalArgumentException("--variants needs --reference and takes no --against or --grads");
        if (json && !variants) throw new IllegalArgumentException("--json is for --variants");
        if (mine != null && mine.size() > 1 && (against != null || variants))
            throw new IllegalArgumentException("several --precision values compare against --reference or --model itself, not with --against or --variants");
        List<Path> inputs = new ArrayList<>(List.of(model));
        if (reference != null) inputs.add(reference);
        if (against != null) inputs.add(against);
        out.check(inputs);
        if (mine == null) mine = List.of(reference == null ? Precision.FP32 : referencePrecision(reference));
        if (grads && mine.getFirst() != Precision.FP32)
            throw new IllegalArgumentException("--grads compares fp32 gradients, not " + mine.getFirst().key + " (from --precision or the reference's compute_dtype)");
        if (variants) return variants(mine.getFirst(), inputs);

        Model a = load(model, mine.getFirst());
        Set<Integer> endIds = ModelFiles.generationEos(model, a);
        Map<String, List<ReferenceCompare.Row>> lines = new LinkedHashMap<>();
        ReferenceCompare.Result r;
        String title;
        String tag = mine.getFirst() == Precision.FP32 ? "" : " " + mine.getFirst().key;
        if (comparePrecisions) {
            Model base = load(model, theirs);
            long[] ids = ids(base);
            int[] prompt = Arrays.stream(Arrays.copyOf(ids, Math.min(8, ids.length))).mapToInt(Math::toIntExact).toArray();
            if (greedyTokens < 0 || greedyTokens > 4096) throw new IllegalArgumentException("--greedy-tokens must be in 0..4096, got " + greedyTokens);
            return perPrecision(a, mine, theirs.key, m -> ModelCompare.run(base, m, ids, 1, ids.length, prompt, greedyTokens, endIds, tolerance), inputs);
        } else if (against == null && mine.size() > 1) {
            return perPrecision(a, mine, "reference", m -> ReferenceCompare.run(m, reference, tolerance, endIds), inputs);
        } else if (against == null) {
            r = ReferenceCompare.run(a, reference, tolerance, endIds);
            title = model.getFileName() + tag + " vs " + reference.getFileName();
            lines.put(model.getFileName() + tag + " vs reference", r.rows());
        } else {
            Model b = load(against, theirs);
            long[] ids;
            int batch, T;
            int[] prompt;
            int steps;
            if (reference != null) {
                SafetensorsFile ref = SafetensorsFile.open(reference);
                long[] shape = ReferenceCompare.inputShape(ref);
                ids = ref.longs("input_ids");
                batch = (int) shape[0];
                T = (int) shape[1];
                prompt = ref.has("generate.prompt") ? Arrays.stream(ref.longs("generate.prompt")).mapToInt(Math::toIntExact).toArray() : null;
                steps = ref.has("generate.output") && prompt != null ? (int) (ref.info("generate.output").shape()[1] - prompt.length) : 0;
                Path[] paths = {model, against};
                Model[] models = {a, b};
                for (int i = 0; i < 2; i++) {
                    ReferenceCompare.Result vsRef = ReferenceCompare.run(models[i], reference, tolerance, endIds);
                    if (!vsRef.rows().isEmpty()) lines.put((i == 0 ? "--model " : "--against ") + paths[i].getFileName() + " vs reference", vsRef.rows());
                }
            } else {
                ids = ids(a);
                batch = 1;
                T = ids.length;
                prompt = Arrays.stream(Arrays.copyOf(ids, Math.min(8, T))).mapToInt(Math::toIntExact).toArray();
                if (greedyTokens < 0 || greedyTokens > 4096) throw new IllegalArgumentException("--greedy-tokens must be in 0..4096, got " + greedyTokens);
                steps = greedyTokens;
            }
            r = ModelCompare.run(a, b, ids, batch, T, prompt, steps, endIds, tolerance);
            String theirTag = theirs == Precision.FP32 ? "" : " " + theirs.key;
            title = against.getFileName() + theirTag + " vs " + model.getFileName() + tag;
            lines.put(title, r.rows());
        }
        String table = table(r);
        System.out.print(table);
        String greedyText = greedy(r);
        if (!greedyText.isEmpty()) System.out.print(greedyText);
        jllm.doctor.GradCompare.Result g = grads ? jllm.doctor.GradCompare.run(a, reference, false) : null;
        if (g != null) {
            java.io.StringWriter gt = new java.io.StringWriter();
            jllm.doctor.GradCompare.print(g, new java.io.PrintWriter(gt, true));
            table += gt;
            System.out.print(gt);
        }
        return finish(r, g, table + greedyText, title, lines, inputs);
    }

    /** A fresh load of {@code path} computing in {@code p}. */
    private Model load(Path path, Precision p) {
        return LowPrecision.hold(Models.load(path, threads, true), p); // a reference comparison: fp32 activations
    }

    /** The dtype the reference was computed in, from its {@code compute_dtype} metadata; fp32 when it does not say. */
    static Precision referencePrecision(Path reference) {
        String d = SafetensorsFile.open(reference).metadata().get("compute_dtype");
        if (d == null) return Precision.FP32;
        Precision p;
        try {
            p = Precision.of(d.replace("torch.", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(reference + ": compute_dtype '" + d + "' is not fp32, bf16 or fp16; give --precision");
        }
        if (p != Precision.FP32) System.err.println("note: " + reference.getFileName() + " was computed in " + p.key + " (compute_dtype); running in " + p.key);
        return p;
    }

    /** Two results as one for the RESULT line: every row (so the largest error), and a greedy mismatch if either has one. */
    private static ReferenceCompare.Result combined(ReferenceCompare.Result a, ReferenceCompare.Result b) {
        List<ReferenceCompare.Row> rows = new ArrayList<>(a.rows());
        rows.addAll(b.rows());
        ReferenceCompare.Result g = b.greedy().equals("mismatch") || a.greedy().equals("n/a") ? b : a;
        return new ReferenceCompare.Result(rows, g.greedy(), g.expected(), g.got(), a.tolerance());
    }

    /**
     * --model computed in each of {@code mine} (the first already loaded as {@code first}), each
     * measured by {@code compare} against {@code against}: one table and one chart line per precision.
     */
    private int perPrecision(Model first, List<Precision> mine, String against, Function<Model, ReferenceCompare.Result> compare,
                             List<Path> inputs) {
        Map<String, List<ReferenceCompare.Row>> lines = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        ReferenceCompare.Result all = null;
        for (Precision p : mine) {
            ReferenceCompare.Result r = compare.apply(p == mine.getFirst() ? first : load(model, p));
            String name = p.key + " vs " + against;
            String part = "== " + name + "\n" + table(r) + greedy(r);
            System.out.print(part);
            text.append(part);
            lines.put(name, r.rows());
            all = all == null ? r : combined(all, r);
        }
        return finish(all, null, text.toString(), model.getFileName() + ": " + String.join(", ", lines.keySet()), lines, inputs);
    }

    /** The ids compared without a reference: --prompt-ids, or --tokens seeded random ids. */
    private long[] ids(Model m) {
        if (promptIds != null) {
            if (promptIds.length == 0) throw new IllegalArgumentException("--prompt-ids is empty");
            return Arrays.stream(promptIds).asLongStream().toArray();
        }
        if (tokens < 1 || tokens > 4096) throw new IllegalArgumentException("--tokens must be in 1..4096, got " + tokens);
        return ModelCompare.randomIds(1, tokens, m.spec.vocab, 1234);
    }

    /** Prints the RESULT line, writes the chart and report, and gives the exit status. */
    private int finish(ReferenceCompare.Result r, jllm.doctor.GradCompare.Result g, String text, String title,
                       Map<String, List<ReferenceCompare.Row>> lines, List<Path> inputs) {
        boolean pass = r.pass() && (g == null || g.pass());
        String gradPart = g == null ? "" : String.format(Locale.ROOT, " loss_err=%.3e grads=%.3e", g.lossErr(), g.maxGradErr());
        String result = String.format(Locale.ROOT, "RESULT max_rel_err=%.3e greedy=%s%s %s", r.maxRel(), r.greedy(), gradPart, pass ? "PASS" : "FAIL");
        LineChart c = ErrorChart.chart("Per-layer error: " + title, lines, tolerance);
        out.writeChart(c, inputs);
        out.writeReport(new HtmlReport("jllm doctor compare: " + title).pre(text + result).chart(c), inputs);
        System.out.println(result);
        return pass ? 0 : 1;
    }

    /** --variants: rank the implementation variants of --model (computing in {@code p}) against --reference. */
    private int variants(Precision p, List<Path> inputs) {
        VariantSearch.Strategy strategy = switch (search.toLowerCase(Locale.ROOT)) {
            case "auto" -> VariantSearch.Strategy.AUTO;
            case "full" -> VariantSearch.Strategy.FULL;
            case "coordinate" -> VariantSearch.Strategy.COORDINATE;
            default -> throw new IllegalArgumentException("--search must be auto, full or coordinate, got '" + search + "'");
        };
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        Model m = LowPrecision.hold(ModelLoader.load(model, CpuBackend.reproducible(n), System.err::println), p);
        ReferenceCompare.Expected expected = ReferenceCompare.Expected.read(SafetensorsFile.open(reference), m);
        if (expected.tensors().isEmpty()) throw new IllegalArgumentException(reference + ": no hidden.* or logits to rank variants by");
        if (json) out.notes = System.err;
        VariantSearch.Result r = VariantSearch.run(m, expected, strategy, Progress.stderr("variant"));
        if (System.console() != null) System.err.println();
        VariantSearch.Variant best = r.best(), own = r.ranked().stream().filter(v -> v.changed().isEmpty()).findFirst().orElseThrow();
        String table = VariantReport.table(r);
        String result = String.format(Locale.ROOT, "RESULT best=\"%s\" max_rel_err=%.3e default_max_rel_err=%.3e %s", best.label(), best.maxRelErr(),
                own.maxRelErr(), best == own ? "DEFAULT_BEST" : "VARIANT_BEST");
        if (json) System.out.print(VariantReport.json(r, reference.toString()));
        else {
            System.out.print(table);
            System.out.println(result);
        }
        String title = "implementation variants of " + model.getFileName() + " vs " + reference.getFileName();
        LineChart c = VariantReport.chart(r, "Per-layer error, " + title);
        out.writeChart(c, inputs);
        out.writeReport(new HtmlReport("jllm doctor compare: " + title).pre(table + result).chart(c), inputs);
        return best == own ? 0 : 1;
    }

    static String table(ReferenceCompare.Result r) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-10s %14s %14s %10s  %s%n", "tensor", "max_abs_err", "rel_l2_err", "log10", ""));
        for (ReferenceCompare.Row row : r.rows()) {
            int bar = Double.isFinite(row.log10()) ? (int) Math.max(0, Math.min(40, Math.round((row.log10() + 10) * 4))) : 0;
            sb.append(String.format(Locale.ROOT, "%-10s %14.3e %14.3e %10.2f  %s%n", row.name(), row.maxAbs(), row.relL2(), row.log10(), "#".repeat(bar)));
        }
        return sb.toString();
    }

    static String greedy(ReferenceCompare.Result r) {
        if (r.expected() == null || r.greedy().equals("match")) return "";
        return "greedy expected: " + Arrays.toString(r.expected()) + "\ngreedy got:      " + Arrays.toString(r.got())
                + "\nfirst divergence at generated token " + r.firstDivergence() + "\n";
    }
}
