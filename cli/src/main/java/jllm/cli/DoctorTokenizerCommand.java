package jllm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import jllm.doctor.Finding;
import jllm.doctor.report.HtmlReport;
import jllm.doctor.tokenizer.TokenizerAudit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = {"Encode a built-in corpus of tricky strings (whitespace, digits, emoji, CJK, RTL, combining marks, special-token",
                "look-alikes, lone surrogates, ...) with every tokenizer representation the model ships (tokenizer.json as transformers and",
                "as the tokenizers library read it, tokenizer_config.json settings, SentencePiece tokenizer.model, the GGUF vocabulary)",
                "and report every disagreement with examples. Exit status 1 when any two disagree."})
final class DoctorTokenizerCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "HF model or tokenizer directory, .gguf file, or a tokenizer file")
    Path model;

    @Option(names = "--with", description = "Another tokenizer to compare too (directory, tokenizer.json, .model or .gguf; repeatable)")
    List<Path> with = new ArrayList<>();

    @Option(names = "--examples", defaultValue = "5", description = "Examples shown per disagreeing pair (default ${DEFAULT-VALUE})")
    int examples;

    @Option(names = "--html", description = "Write a self-contained HTML report to this file")
    Path html;

    @Option(names = "--overwrite", description = "Replace an existing --html file")
    boolean overwrite;

    @Override
    public Integer call() {
        List<Path> inputs = new ArrayList<>(with);
        inputs.add(model);
        if (html != null) jllm.formats.io.OutputFile.check(html, overwrite, inputs);
        if (!java.nio.file.Files.exists(model)) throw new IllegalArgumentException(model + ": no such file or directory");
        StringBuilder sb = new StringBuilder();
        List<String> skipped = new ArrayList<>();
        var reps = TokenizerAudit.representations(model, with, skipped::add);
        for (String s : skipped) sb.append("could not load ").append(s).append('\n');
        if (reps.isEmpty()) throw new IllegalArgumentException(model + ": no tokenizer found (tokenizer.json, tokenizer.model or a GGUF vocabulary)");
        sb.append("representations:\n");
        for (int i = 0; i < reps.size(); i++) sb.append(i == 0 ? "  * " : "    ").append(reps.get(i).name()).append(i == 0 ? "  (reference)\n" : "\n");
        var corpus = TokenizerAudit.corpus(reps.stream().map(TokenizerAudit.Representation::tokenizer).toList());
        List<Finding> findings = new ArrayList<>();
        var comps = TokenizerAudit.compare(reps, corpus);
        if (comps.isEmpty()) sb.append("only one representation: nothing to compare (add one with --with)\n");
        var refTok = reps.getFirst().tokenizer();
        for (int k = 0; k < comps.size(); k++) {
            var c = comps.get(k);
            var otherTok = reps.get(k + 1).tokenizer();
            sb.append(String.format("%n%s vs %s: %d of %d strings disagree%n", c.other(), c.reference(), c.disagreements().size(), c.compared()));
            if (c.wrapperNote() != null) sb.append("  ").append(c.wrapperNote()).append('\n');
            for (var d : c.disagreements().subList(0, Math.min(examples, c.disagreements().size()))) {
                sb.append("  text:  ").append(TokenizerAudit.escape(d.text())).append('\n');
                if (d.error() != null) sb.append("    error: ").append(d.error()).append('\n');
                sb.append("    ").append(c.reference().length() > 40 ? "reference" : c.reference()).append(": ").append(TokenizerAudit.pieces(refTok, d.reference())).append('\n');
                sb.append("    other:     ").append(TokenizerAudit.pieces(otherTok, d.other())).append('\n');
            }
            if (!c.disagreements().isEmpty() || c.wrapperNote() != null)
                findings.add(Finding.warning("tokenizer-disagreement", c.other() + " and " + c.reference() + " disagree on " + c.disagreements().size()
                        + " of " + c.compared() + " strings" + (c.wrapperNote() == null ? "" : "; " + c.wrapperNote())
                        + ": a runtime using one sees token sequences the model was trained on with the other",
                        "Make the files agree (regenerate the derived one from the tokenizer the model was trained with), or pin runtimes to one."));
        }
        System.out.print(sb);
        if (html != null) {
            var rep = new HtmlReport("jllm doctor tokenizer: " + model).findings(findings).pre(sb.toString());
            System.out.println("report: " + rep.write(html, overwrite, inputs));
        }
        return findings.isEmpty() ? 0 : 1;
    }
}
