package jllm.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import jllm.formats.io.OutputFile;
import jllm.generate.ModelBundle;
import jllm.train.data.DatasetReader;
import jllm.train.data.ExactMatch;
import jllm.train.data.PredictionInputs;
import jllm.train.data.PredictionOutput;
import jllm.train.data.PromptFormat;
import jllm.train.data.RowFormatter;
import jllm.train.data.TrainingData;
import jllm.train.peft.PeftAdapter;
import jllm.train.predict.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Answers every row of a dataset with greedy decoding, prompting each row exactly as training did: the
 * adapter's recorded prompt format (or, without an adapter, the one given here).
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Greedy answers for each row of a dataset (CSV/TSV/JSONL), prompted exactly as the adapter was trained.",
                "Writes one JSON line {\"output\": ...} per input row, in order; prints exact_match=... n=... when the rows hold the answers."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Base model: HF directory, .gguf, llama2.c .bin, or 'default' (the model in models/default; also when omitted)")
    Path model;

    @Option(names = "--adapter", description = "LoRA adapter directory (adapter_config.json + adapter_model.safetensors); its recorded prompt format is used")
    Path adapter;

    @Option(names = "--tokenizer", description = "Tokenizer to use instead of the one beside the model")
    Path tokenizer;

    @Option(names = "--data", required = true, description = "Rows to answer: .csv, .tsv, .jsonl or .json")
    Path data;

    @Option(names = "--out", required = true, description = "Predictions, one JSON line per input row")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists")
    boolean overwrite;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Longest answer in tokens (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--prompt-template", description = "Without an adapter that records one: prompt template of a table ({Column}, [[ optional ]])")
    String promptTemplate;

    @Option(names = "--output-column", description = "Without an adapter: the column holding the expected answer (scored when present)")
    String outputColumn;

    @Option(names = "--output-template", description = "Without an adapter: the expected answer as a template over columns")
    String outputTemplate;

    @Option(names = "--system", description = "Without an adapter: a system prompt")
    String system;

    @Override
    public Integer call() {
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be at least 1, not " + maxTokens);
        Path modelPath = Models.resolve(model);
        List<Path> inputs = new ArrayList<>(List.of(modelPath, data));
        if (adapter != null) inputs.add(adapter);
        OutputFile.check(out, overwrite, inputs);
        DatasetReader.Table table = DatasetReader.read(data);
        int n = Threads.resolve(threads);
        ModelBundle b = Models.bundle(modelPath, tokenizer, null, n, false);
        var tok = b.requireTokenizer();
        PeftAdapter a = Adapters.attach(b.model, adapter);
        PromptFormat format = a == null ? null : a.promptFormat;
        boolean given = promptTemplate != null || outputColumn != null || outputTemplate != null || system != null;
        if (format != null && given)
            throw new IllegalArgumentException("the adapter records the prompt format it was trained with; --prompt-template, --output-column, "
                    + "--output-template and --system are only for models without one");
        if (format == null) {
            String now = LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
            PromptFormat.Input in = RowFormatter.detect(table, promptTemplate, outputColumn, outputTemplate);
            format = TrainingData.formatFor(tok, tok.chatTemplate().orElse(null), now, system, in);
            if (a != null) System.err.println("warning: the adapter records no prompt format (made elsewhere?); prompting with the model's "
                    + (format.style() == PromptFormat.Style.PLAIN ? "plain format" : "chat template"));
        }
        List<PredictionInputs.Item> items = PredictionInputs.load(table, format, tok);
        if (items.isEmpty()) throw new IllegalArgumentException(data + ": no rows to answer");
        Set<Integer> stops = new LinkedHashSet<>(b.stopIds());
        if (format.style() == PromptFormat.Style.PLAIN) tok.tokenId(format.eos()).ifPresent(stops::add);

        ProgressLine progress = new ProgressLine();
        AtomicInteger finished = new AtomicInteger();
        long t0 = System.nanoTime();
        List<String> outputs = new Predictor(b.model, tok, stops, format, n).predict(items, maxTokens, i -> {
            int k = finished.incrementAndGet();
            double s = (System.nanoTime() - t0) / 1e9;
            progress.update(String.format(Locale.ROOT, "predict %d/%d rows  %.1f rows/s  ETA %s", k, items.size(), k / s,
                    ProgressLine.duration(s / k * (items.size() - k))), k == items.size());
        });
        progress.finish();
        PredictionOutput.writeJsonl(out, overwrite, inputs, outputs);
        double s = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "wrote %s: %d rows in %.1f s%n", out, outputs.size(), s);
        List<String> expected = items.stream().map(PredictionInputs.Item::expected).toList();
        if (expected.stream().anyMatch(e -> e != null && !e.isBlank())) System.out.println(ExactMatch.score(outputs, expected).line());
        return 0;
    }
}
