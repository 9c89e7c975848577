package jllm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.doctor.ModelFiles;
import jllm.doctor.chart.LineChart;
import jllm.doctor.report.HtmlReport;
import jllm.doctor.tokens.TokenAudit;
import jllm.doctor.tokens.TokenFix;
import jllm.doctor.tokens.UntrainedTokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = {"Find untrained tokens: embedding rows with max |x| <= 1e-16 whose LM head row is ~0 too or a duplicate of another",
                "(Unsloth's rule). Shows which the chat template uses. --fix OUT writes a copy (same format) with those rows set to the",
                "fp32 mean of the trained rows. bos/eos/pad/unk are listed but left alone unless --include-special.",
                "Exit status: 1 when untrained tokens other than bos/eos/pad/unk exist (and no --fix), else 0."})
final class DoctorTokensCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "HF model directory or .gguf file")
    Path model;

    @Option(names = "--fix", paramLabel = "OUT", description = "Write the repaired copy here (a directory for an HF model, a .gguf file for a GGUF)")
    Path fix;

    @Option(names = "--include-special", description = "With --fix: also repair untrained bos/eos/pad/unk rows")
    boolean includeSpecial;

    @picocli.CommandLine.Mixin
    DoctorOutputs out;

    @Override
    public Integer call() {
        out.check(List.of(model));
        try (ModelFiles m = ModelFiles.open(model)) {
            TokenAudit.Report r = TokenAudit.run(m);
            String text = describe(r);
            System.out.print(text);
            LineChart c = chart(r, model);
            out.writeChart(c, List.of(model));
            out.writeReport(new HtmlReport("jllm doctor tokens: " + model).pre(text).chart(c), List.of(model));
            if (fix != null) {
                var patches = TokenAudit.patches(m, r, includeSpecial);
                if (patches.isEmpty()) {
                    System.out.println("nothing to fix");
                    return 0;
                }
                List<Path> written = TokenFix.write(m, patches, fix, out.overwrite);
                System.out.printf("fixed %d row(s) of %s: wrote %s%n", patches.getFirst().rows().length,
                        patches.stream().map(TokenFix.Patch::tensor).toList(), written.size() == 1 ? written.getFirst() : fix);
                try (ModelFiles after = ModelFiles.open(m.gguf ? written.getFirst() : fix)) {
                    TokenAudit.Report again = TokenAudit.run(after);
                    System.out.printf("after the fix: %d untrained token(s) (%d bos/eos/pad/unk)%n", again.all().size(), again.roles().size());
                }
                return 0;
            }
            return r.flagged().isEmpty() ? 0 : 1;
        }
    }

    static String describe(TokenAudit.Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "vocabulary %d x %d, LM head %s%n", r.scan().vocab(), r.scan().hidden(), r.scan().tied() ? "tied to the embedding" : "separate"));
        if (r.all().isEmpty()) return sb.append("no untrained tokens\n").toString();
        sb.append(String.format(Locale.ROOT, "%8s  %-28s %-5s %12s %12s %-9s %s%n", "id", "token", "role", "embed_max", "head_max", "head_dup", "in template"));
        List<TokenAudit.Entry> all = new ArrayList<>(r.all());
        all.sort(java.util.Comparator.comparingInt(TokenAudit.Entry::id));
        for (TokenAudit.Entry e : all) {
            sb.append(String.format(Locale.ROOT, "%8d  %-28s %-5s %12.3e %12.3e %-9s %s%n", e.id(), e.text() == null ? "?" : e.text(), e.role() == null ? "" : e.role(),
                    e.row().embedMax(), e.row().lmMax(), e.row().lmDuplicate() ? "yes" : "no", r.templateChecked() ? (e.inTemplate() ? "YES" : "no") : "n/a"));
        }
        long used = r.flagged().stream().filter(TokenAudit.Entry::inTemplate).count();
        sb.append(String.format(Locale.ROOT, "%d untrained token(s) besides bos/eos/pad/unk (%d used by the chat template), %d bos/eos/pad/unk%n",
                r.flagged().size(), used, r.roles().size()));
        return sb.toString();
    }

    static LineChart chart(TokenAudit.Report r, Path model) {
        double[] y = r.scan().embedMax().clone();
        // A row of exact zeros cannot sit on a log axis: draw it at the detection threshold's floor.
        for (int i = 0; i < y.length; i++) if (y[i] <= 0) y[i] = UntrainedTokens.EPS / 10;
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) x[i] = i;
        return LineChart.of("Embedding rows: " + model.getFileName(), "token id", "max |x| of the embedding row").logY(true)
                .series("embedding row max |x| (exact zeros drawn at 1e-17)", x, y)
                .marker("untrained threshold 1e-16", UntrainedTokens.EPS);
    }
}
