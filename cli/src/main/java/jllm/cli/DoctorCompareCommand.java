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
import jllm.doctor.ErrorChart;
import jllm.doctor.ModelCompare;
import jllm.doctor.ModelFiles;
import jllm.doctor.ReferenceCompare;
import jllm.doctor.chart.LineChart;
import jllm.doctor.report.HtmlReport;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare a model layer by layer: against a transformers reference (--reference), or against a second model",
                "(--against: another checkpoint, or the same model in another format such as GGUF), on the same token ids.",
                "Greedy generation is replayed as the references were made: end-of-sequence tokens banned for all steps (min_new_tokens).",
                "Last line: RESULT max_rel_err=... greedy=match|mismatch|n/a PASS|FAIL (exit 0/1)."})
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

    @Option(names = "--grads", description = "With --reference: also compare the loss and every parameter gradient with the reference's "
            + "loss and grad.* (PASS needs loss rel err <= 1e-5 and every gradient <= 1e-4 rel L2)")
    boolean grads;

    @picocli.CommandLine.Mixin
    DoctorOutputs out;

    @Override
    public Integer call() {
        if (reference == null && against == null) throw new IllegalArgumentException("give --reference FILE, --against MODEL, or both");
        if (grads && reference == null) throw new IllegalArgumentException("--grads needs --reference");
        List<Path> inputs = new ArrayList<>(List.of(model));
        if (reference != null) inputs.add(reference);
        if (against != null) inputs.add(against);
        out.check(inputs);

        Model a = Models.load(model, threads);
        Set<Integer> endIds = ModelFiles.generationEos(model, a);
        Map<String, List<ReferenceCompare.Row>> lines = new LinkedHashMap<>();
        ReferenceCompare.Result r;
        String title;
        if (against == null) {
            r = ReferenceCompare.run(a, reference, tolerance, endIds);
            title = model.getFileName() + " vs " + reference.getFileName();
            lines.put(model.getFileName() + " vs reference", r.rows());
        } else {
            Model b = Models.load(against, threads);
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
                if (promptIds != null) ids = Arrays.stream(promptIds).asLongStream().toArray();
                else {
                    if (tokens < 1 || tokens > 4096) throw new IllegalArgumentException("--tokens must be in 1..4096, got " + tokens);
                    ids = ModelCompare.randomIds(1, tokens, a.spec.vocab, 1234);
                }
                batch = 1;
                T = ids.length;
                if (T == 0) throw new IllegalArgumentException("--prompt-ids is empty");
                prompt = Arrays.stream(Arrays.copyOf(ids, Math.min(8, T))).mapToInt(Math::toIntExact).toArray();
                if (greedyTokens < 0 || greedyTokens > 4096) throw new IllegalArgumentException("--greedy-tokens must be in 0..4096, got " + greedyTokens);
                steps = greedyTokens;
            }
            r = ModelCompare.run(a, b, ids, batch, T, prompt, steps, endIds, tolerance);
            title = against.getFileName() + " vs " + model.getFileName();
            lines.put(against.getFileName() + " vs " + model.getFileName(), r.rows());
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
        boolean pass = r.pass() && (g == null || g.pass());
        String gradPart = g == null ? "" : String.format(Locale.ROOT, " loss_err=%.3e grads=%.3e", g.lossErr(), g.maxGradErr());
        String result = String.format(Locale.ROOT, "RESULT max_rel_err=%.3e greedy=%s%s %s", r.maxRel(), r.greedy(), gradPart, pass ? "PASS" : "FAIL");
        LineChart c = ErrorChart.chart("Per-layer error: " + title, lines, tolerance);
        out.writeChart(c, inputs);
        out.writeReport(new HtmlReport("jllm doctor compare: " + title).pre(table + greedyText + result).chart(c), inputs);
        System.out.println(result);
        return pass ? 0 : 1;
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
