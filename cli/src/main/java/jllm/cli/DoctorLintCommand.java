package jllm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import jllm.doctor.Finding;
import jllm.doctor.ModelFiles;
import jllm.doctor.lint.Lint;
import jllm.doctor.report.HtmlReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lint", mixinStandardHelpOptions = true,
        description = {"Check a model release (HF directory: config.json, generation_config.json, tokenizer_config.json, tokenizer, weights;",
                "or a GGUF file) for the bugs releases ship with. Each finding has a stable code, a severity, why it matters and the fix.",
                "Exit status: 0 when there are no errors, 1 when there are."})
final class DoctorLintCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "HF model directory or .gguf file")
    Path model;

    @Option(names = "--json", description = "Print {\"findings\": [{\"code\", \"severity\", \"message\", \"fix\"}, ...]}")
    boolean json;

    @Option(names = "--html", description = "Also write a self-contained HTML report to this file")
    Path html;

    @Option(names = "--overwrite", description = "Replace an existing --html file")
    boolean overwrite;

    @Override
    public Integer call() {
        if (html != null) jllm.formats.io.OutputFile.check(html, overwrite, List.of(model));
        List<Finding> findings;
        try (ModelFiles m = ModelFiles.open(model)) {
            findings = Lint.run(m);
        }
        if (json) System.out.println(Finding.json(findings));
        else print(findings);
        if (html != null) {
            String path = html.toString();
            new HtmlReport("jllm doctor lint: " + model).findings(findings).write(html, overwrite, List.of(model));
            if (!json) System.out.println("report: " + path);
        }
        return Finding.anyErrors(findings) ? 1 : 0;
    }

    static void print(List<Finding> findings) {
        if (findings.isEmpty()) System.out.println("no findings");
        for (Finding f : findings) {
            System.out.printf("%-7s %s: %s%n", f.severity().label(), f.code(), f.message());
            System.out.printf("        fix: %s%n", f.fix());
        }
        long e = findings.stream().filter(f -> f.severity() == Finding.Severity.ERROR).count();
        long w = findings.stream().filter(f -> f.severity() == Finding.Severity.WARNING).count();
        System.out.printf("%d error(s), %d warning(s), %d note(s)%n", e, w, findings.size() - e - w);
    }
}
