package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.doctor.ReferenceCompare;
import jllm.model.Model;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor", mixinStandardHelpOptions = true, subcommands = {DoctorCommand.Compare.class},
        description = "Diagnose models: compare a model against a reference, layer by layer.")
final class DoctorCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Run the model on a reference file's input_ids and compare hidden states, logits and greedy generation.")
    static final class Compare implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "Model directory or file")
        Path model;

        @Option(names = "--reference", required = true, description = "Reference safetensors (input_ids, hidden.*, logits, generate.*)")
        Path reference;

        @Option(names = "--tolerance", defaultValue = "1e-5", description = "Largest relative L2 error that passes (default ${DEFAULT-VALUE})")
        double tolerance;

        @Option(names = "--threads", description = "Worker threads (default: all cores)")
        Integer threads;

        @Option(names = "--chart", description = "Also draw the per-layer error as an SVG chart to this file")
        Path chart;

        @Option(names = "--overwrite", description = "Replace the chart file if it exists")
        boolean overwrite;

        @Override
        public Integer call() throws java.io.IOException {
            if (!(tolerance >= 0) || Double.isInfinite(tolerance)) throw new IllegalArgumentException("--tolerance must be a finite number >= 0, got " + tolerance);
            if (chart != null) jllm.formats.io.OutputFile.check(chart, overwrite, java.util.List.of(model, reference));
            Model m = Models.load(model, threads);
            ReferenceCompare.Result r = ReferenceCompare.run(m, reference, tolerance);
            System.out.printf("%-10s %14s %14s %10s  %s%n", "tensor", "max_abs_err", "rel_l2_err", "log10", "");
            for (ReferenceCompare.Row row : r.rows()) {
                int bar = Double.isFinite(row.log10()) ? (int) Math.max(0, Math.min(40, Math.round((row.log10() + 10) * 4))) : 0;
                System.out.printf("%-10s %14.3e %14.3e %10.2f  %s%n", row.name(), row.maxAbs(), row.relL2(), row.log10(), "#".repeat(bar));
            }
            if (r.expected() != null && !r.greedy().equals("match")) {
                System.out.println("greedy expected: " + java.util.Arrays.toString(r.expected()));
                System.out.println("greedy got:      " + java.util.Arrays.toString(r.got()));
            }
            if (chart != null) {
                jllm.formats.io.OutputFile.writeString(chart, overwrite, jllm.doctor.ErrorChart.svg(model.getFileName() + " vs " + reference.getFileName(), r.rows(), tolerance));
                System.out.println("chart: " + chart);
            }
            System.out.printf("RESULT max_rel_err=%s greedy=%s %s%n", fmt(r.maxRel()), r.greedy(), r.pass() ? "PASS" : "FAIL");
            return r.pass() ? 0 : 1;
        }

        private static String fmt(double v) {
            return String.format(java.util.Locale.ROOT, "%.3e", v);
        }
    }
}
