package jllm.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.formats.FormatException;
import jllm.generate.ModelBundle;
import jllm.model.Model;
import jllm.model.Weights;
import jllm.tensor.CpuBackend;
import jllm.tensor.DType;
import jllm.tensor.GgmlType;
import jllm.train.TrainStep;
import jllm.train.Trainable;
import jllm.train.data.DatasetReader;
import jllm.train.data.PromptFormat;
import jllm.train.data.TrainingData;
import jllm.train.lora.BaseQuantization;
import jllm.train.lora.LoraConfig;
import jllm.train.merge.HfCheckpointWriter;
import jllm.train.merge.MemoryTensors;
import jllm.train.optim.AdamW;
import jllm.train.optim.LrSchedule;
import jllm.train.peft.PeftAdapter;
import jllm.train.run.Batches;
import jllm.train.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune a model on a dataset (JSONL/CSV/TSV): LoRA by default (the adapter is written in PEFT's layout with its prompt format),",
                "--full for every weight (the model in the Hugging Face layout). Live progress, metrics.jsonl, loss.png, atomic checkpoints,",
                "Ctrl-C saves and exits, --resume continues to the same losses."})
final class FinetuneCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "Base model: HF directory, .gguf, llama2.c .bin, or 'default' (also when omitted)")
    Path model;

    @Option(names = "--tokenizer", description = "Tokenizer to use instead of the one beside the model")
    Path tokenizer;

    @Option(names = "--chat-template", description = "Jinja chat template file instead of the model's own")
    Path chatTemplate;

    @Option(names = "--data", description = "Training data: .jsonl/.json ({text}, {instruction,input,output}, {prompt,completion}, {messages}, {conversations}) or .csv/.tsv")
    Path data;

    @Option(names = "--prompt-template", description = "For tables: the prompt, {Column} placeholders, [[ optional part ]] dropped when a column in it is empty")
    String promptTemplate;

    @Option(names = "--output-column", description = "For tables: the column holding the response")
    String outputColumn;

    @Option(names = "--output-template", description = "For tables: the response as a template over columns")
    String outputTemplate;

    @Option(names = "--system", description = "A system prompt put before every example")
    String system;

    @Option(names = "--train-on-inputs", description = "Train on every token, not only the responses")
    boolean trainOnInputs;

    @Option(names = "--pack", description = "Pack several short examples into each row of --max-seq tokens (attention kept within each); "
            + "default: one example per row, --batch-size of them per micro-batch (no padding either way)")
    boolean pack;

    @Option(names = "--max-seq", defaultValue = "1024", description = "Longest example in tokens; longer ones are dropped (text split) with a warning (default ${DEFAULT-VALUE})")
    int maxSeq;

    @Option(names = "--full", description = "Train every weight instead of a LoRA adapter")
    boolean full;

    @Option(names = "--lora-r", defaultValue = "16", description = "LoRA rank (default ${DEFAULT-VALUE})")
    int loraR;

    @Option(names = "--lora-alpha", description = "LoRA alpha; scale alpha/r (default 2 x --lora-r)")
    Double loraAlpha;

    @Option(names = "--lora-dropout", defaultValue = "0", description = "LoRA dropout (default ${DEFAULT-VALUE})")
    double loraDropout;

    @Option(names = "--rslora", description = "rsLoRA: scale alpha/sqrt(r)")
    boolean rsLora;

    @Option(names = "--target", defaultValue = "all-linear", description = "Modules to adapt, comma-separated (q_proj,v_proj,...) or all-linear (default)")
    String target;

    @Option(names = "--base-type", description = "QLoRA: hold the frozen base's linear layers in this type (q4_0, q4_k, q8_0, ...)")
    String baseType;

    @Option(names = "--lr", description = "Peak learning rate (default for LoRA: 2e-4 at hidden size 4096 and above, 2e-4 x sqrt(4096/hidden) below, at most 2e-3; 2e-5 for --full)")
    Double lr;

    @Mixin TrainingOptions run;

    @Override
    public Integer call() {
        ObjectNode recorded = RunRecord.resume(spec, run.resume, run.out);
        if (data == null) throw new IllegalArgumentException("--data FILE is required");
        if (full && baseType != null) throw new IllegalArgumentException("--base-type (QLoRA) is for LoRA; --full trains the weights themselves");
        Path base = Models.resolve(model);
        List<Path> inputs = RunDriver.inputs(base, data, tokenizer, chatTemplate);
        if (!Files.isRegularFile(data)) throw new FormatException(data + ": no such file");
        RunDriver.precheck(run);
        if (recorded != null) RunRecord.checkFingerprint(recorded.get("data"), data);

        int threads = run.threads();
        ModelBundle b = ModelBundle.open(base, tokenizer, chatTemplate, CpuBackend.reproducible(threads), System.err::println);
        var tok = b.requireTokenizer();
        String template = null;
        try {
            if (chatTemplate != null) template = Files.readString(chatTemplate);
            else template = tok.chatTemplate().orElse(null);
        } catch (java.io.IOException e) {
            throw new FormatException(chatTemplate + ": cannot read: " + e.getMessage());
        }
        TrainingData.Options o = new TrainingData.Options(data, promptTemplate, outputColumn, outputTemplate, system, trainOnInputs, maxSeq,
                run.valFraction, run.seed, pack);
        TrainingData td;
        if (recorded != null) {
            // The recorded format (its date included), so the examples are the same tokens as before.
            PromptFormat f = PromptFormat.fromJson(run.out.resolve(RunRecord.FILE).toString(), recorded.get("prompt_format"));
            td = TrainingData.build(o, DatasetReader.read(data), f, tok, s -> { });
        } else {
            td = TrainingData.build(o, tok, template, System.err::println);
        }
        var st = td.stats();
        System.err.printf(Locale.ROOT, "data: %d rows -> %d examples (%,d tokens, %,d trained), %d training rows, %d validation rows%n", st.rows(),
                st.examples(), st.tokens(), st.trainedTokens(), st.trainRows(), st.valRows());

        Path out = RunDriver.prepare(run, inputs);
        Model m = b.model;
        if (full && base.getFileName().toString().endsWith(".gguf"))
            throw new IllegalArgumentException("--full writes a Hugging Face model; start from the Hugging Face checkpoint rather than a GGUF file");
        if (baseType != null) quantizeBase(m, BaseQuantization.parseType(baseType), threads);
        Trainable trainable = full ? Trainable.full(m, n -> true)
                : Trainable.lora(m, new LoraConfig(loraR, loraAlpha != null ? loraAlpha : defaultLoraAlpha(loraR), loraDropout, rsLora, LoraConfig.parseTargets(target)), run.seed);
        double peak = lr != null ? lr : full ? 2e-5 : defaultLoraLr(m.spec.hidden);
        TrainingRun.Settings settings = run.settings(td.train().size());
        long total = settings.totalSteps(td.train().size());
        LrSchedule schedule = run.schedule(peak, total, "linear");
        TrainStep ts = TrainStep.builder(m, trainable, schedule).seed(run.seed).maxGradNorm(run.gradClip)
                .adamw(new AdamW.Config(0.9, 0.999, 1e-8, run.weightDecay), AdamW.noBiasOrNorm()).build();
        System.err.printf(Locale.ROOT, "training %s: %,d parameters, %d steps (%d epoch(s) of %d steps, %d rows x %d micro-batch(es) per step), lr %.2e %s, %d threads%n",
                full ? "every weight" : "LoRA r " + loraR + " on " + trainable.lora().pairs.size() + " layers", trainable.parameterCount(), total,
                run.epochs, settings.stepsPerEpoch(td.train().size()), run.batchSize, run.gradAccum, peak, schedule.kind().id(), threads);

        if (recorded == null) {
            ObjectNode rec = RunRecord.object();
            rec.put("command", "finetune");
            rec.set("options", RunRecord.options(spec));
            rec.set("data", RunRecord.fingerprint(data));
            rec.set("prompt_format", td.format().toJson());
            rec.put("threads", threads);
            RunRecord.write(out, rec);
        } else if (recorded.path("threads").asInt(threads) != threads) {
            System.err.println("warning: the run used " + recorded.get("threads").asInt() + " threads, this one " + threads
                    + "; losses may differ in the last bits (pass --threads " + recorded.get("threads").asInt() + " to repeat them exactly)");
        }
        String baseName = base.toAbsolutePath().normalize().toString();
        Runnable finish = () -> {
            if (full) {
                MemoryTensors weights = MemoryTensors.of(m, "trained model");
                HfCheckpointWriter.write(out, true, inputs, readConfig(base), weights, weights, Files.isDirectory(base) ? base : null, DType.F32, x -> { });
                System.err.println("wrote the model (Hugging Face layout, F32) to " + out);
            } else {
                adapter(trainable, baseName, td.format()).write(out, true, inputs);
                System.err.println("wrote the adapter (PEFT layout + prompt format) to " + out + "; try: jllm predict --model " + base + " --adapter " + out
                        + " --data FILE --out PRED.jsonl");
            }
        };
        var checkpointExtra = full ? null : (java.util.function.Consumer<Path>) d -> adapter(trainable, baseName, td.format()).write(d, true, inputs);
        return RunDriver.execute(run, out, ts, Batches.of(td), settings, "finetune " + out.getFileName(), false, checkpointExtra, finish);
    }

    private static PeftAdapter adapter(Trainable t, String base, PromptFormat format) {
        return new PeftAdapter(t.lora().peftConfig(List.of(), base), t.lora().peftPairs(), List.of(), format);
    }

    private static ObjectNode readConfig(Path base) {
        try (var bc = jllm.train.merge.BaseCheckpoint.open(base)) {
            return bc.config();
        }
    }

    /** QLoRA: every linear layer of the frozen base re-encoded in {@code type} (LoRA trains on top in fp32). */
    private static void quantizeBase(Model m, GgmlType type, int threads) {
        var par = jllm.tensor.Parallel.shared(threads);
        long before = 0, after = 0;
        List<Weights.Linear> ls = new ArrayList<>(m.weights.linears());
        for (Weights.Linear l : ls) {
            var old = l.w;
            var q = BaseQuantization.convert(old, type, par);
            before += old.segment().byteSize();
            after += q.segment().byteSize();
            if (q != old) m.weights.replace(old, q);
        }
        System.err.printf(Locale.ROOT, "base linear layers as %s: %.1f MiB -> %.1f MiB%n", type, before / 1048576.0, after / 1048576.0);
    }

    /**
     * 2e-4 is the usual LoRA rate for models of 4096 and wider; narrow models need a larger one (with B
     * starting at zero, a small model's adapter barely moves in a few hundred steps at 2e-4: the
     * tiny test model fine-tuned on 600 Titanic rows for 3 epochs answers 0.61 of 100 unseen rows right at
     * 2e-4 and 0.81-0.84 at 6.5e-4..2e-3). Scaled with 1/sqrt(width), capped at 2e-3.
     */
    static double defaultLoraLr(int hidden) {
        return Math.min(2e-3, 2e-4 * Math.sqrt(Math.max(1.0, 4096.0 / Math.max(1, hidden))));
    }

    /**
     * alpha = 2r (scale 2), the common rule of thumb, rather than Unsloth's alpha = r: with the lr above
     * and alpha = r, jllm's default model (hidden 256) fine-tuned on 560 Titanic rows for 3 epochs still
     * answered only the majority class on 140 unseen rows (0.60); with alpha = 2r it learns "women
     * survive" (0.82). Its answer tokens "0"/"1" never occur in its pretraining text, so their logits
     * start far below the rest and the adapter has further to go.
     */
    static double defaultLoraAlpha(int r) {
        return 2.0 * r;
    }
}
