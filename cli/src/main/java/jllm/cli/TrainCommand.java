package jllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.formats.FormatException;
import jllm.model.Config;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Presets;
import jllm.tensor.CpuBackend;
import jllm.tensor.DType;
import jllm.tokenizer.Tokenizer;
import jllm.train.TrainStep;
import jllm.train.Trainable;
import jllm.train.data.ExampleEncoder;
import jllm.train.merge.HfCheckpointWriter;
import jllm.train.merge.MemoryTensors;
import jllm.train.optim.AdamW;
import jllm.train.pretrain.PretrainInit;
import jllm.train.pretrain.PretrainPresets;
import jllm.train.pretrain.TextCorpus;
import jllm.train.run.BatchSource;
import jllm.train.run.Batches;
import jllm.train.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Pretrain a model from random initialisation on a text (language modelling), with the same run loop as finetune.",
                "The text is split by position (the last --val-fraction validates); validation loss is reported per token and per character.",
                "Writes a Hugging Face model (config.json, model.safetensors, tokenizer files) that jllm generate runs."})
final class TrainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;

    @Option(names = "--config", description = "config.json of the model to train (vocab_size and special ids are taken from the tokenizer when absent)")
    Path config;

    @Option(names = "--preset", description = "A built-in geometry instead of --config: nano, micro, mini, small (Llama architecture), or a jllm init preset")
    String preset;

    @Option(names = "--tokenizer", description = "Tokenizer directory (tokenizer.json, e.g. from jllm tokenizer train); copied into the output")
    Path tokenizer;

    @Option(names = "--data", description = "UTF-8 text to train on")
    Path data;

    @Option(names = "--max-seq", defaultValue = "256", description = "Tokens per training sequence (default ${DEFAULT-VALUE})")
    int maxSeq;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--steps", description = "Optimizer steps (same as --max-steps)")
    Long steps;

    @Option(names = "--eos-after", description = "Document separator: the text is cut after each occurrence and an end-of-sequence token put there "
            + "(Java escapes: '\\n\\n' = blank line), so the model learns to stop; validation does not score those tokens")
    String eosAfter;

    @Mixin TrainingOptions run;

    @Override
    public Integer call() {
        ObjectNode recorded = RunRecord.resume(spec, run.resume, run.out);
        if (data == null) throw new IllegalArgumentException("--data TEXT is required");
        if (tokenizer == null) throw new IllegalArgumentException("--tokenizer DIR is required (make one with: jllm tokenizer train --data TEXT --vocab N --out DIR)");
        if ((config == null) == (preset == null)) throw new IllegalArgumentException("give --config FILE or --preset NAME (one of them)");
        if (steps != null) run.maxSteps = steps;
        List<Path> inputs = RunDriver.inputs(data, tokenizer, config);
        if (!Files.isRegularFile(data)) throw new FormatException(data + ": no such file");
        Tokenizer tok = Tokenizer.load(tokenizer);
        ObjectNode cfg = recorded != null ? (ObjectNode) recorded.get("config") : modelConfig(tok);
        RunDriver.precheck(run);
        if (recorded != null) RunRecord.checkFingerprint(recorded.get("data"), data);

        int threads = run.threads();
        long t0 = System.nanoTime();
        TextCorpus corpus = TextCorpus.read(data, tok, run.valFraction, eosAfter == null ? null : unescape(eosAfter));
        System.err.printf(Locale.ROOT, "data: %,d characters -> %,d training tokens (%.2f chars/token), %,d validation tokens (%,d characters) in %.1f s%n",
                corpus.trainChars(), corpus.train().length, (double) corpus.trainChars() / corpus.train().length, corpus.validation().length,
                corpus.validationChars(), (System.nanoTime() - t0) / 1e9);
        int bos = ExampleEncoder.addsBos(tok) ? tok.bosId().getAsInt() : -1;
        BatchSource src = Batches.text(corpus.train(), corpus.validation(), corpus.validationChars(), maxSeq, bos, corpus.validationIgnored(), run.seed);

        Path out = RunDriver.prepare(run, inputs);
        Config c = new Config(cfg, "config");
        Model m = ModelLoader.build(c, PretrainInit.weights(c, run.seed, threads), CpuBackend.reproducible(threads), System.err::println);
        Trainable trainable = Trainable.full(m, n -> true);
        TrainingRun.Settings settings = run.settings(src.size());
        long total = settings.totalSteps(src.size());
        var schedule = run.schedule(lr, total, "cosine");
        TrainStep ts = TrainStep.builder(m, trainable, schedule).seed(run.seed).maxGradNorm(run.gradClip)
                .adamw(new AdamW.Config(0.9, 0.95, 1e-8, run.weightDecay), AdamW.noBiasOrNorm()).build();
        System.err.printf(Locale.ROOT, "model: %s, %,d parameters; %d steps of %d x %d tokens (%d chunks per epoch), lr %.2e %s, %d threads%n",
                describe(cfg), trainable.parameterCount(), total, run.batchSize * run.gradAccum, maxSeq, src.size(), lr, schedule.kind().id(), threads);

        if (recorded == null) {
            ObjectNode rec = RunRecord.object();
            rec.put("command", "train");
            rec.set("options", RunRecord.options(spec));
            rec.set("data", RunRecord.fingerprint(data));
            rec.set("config", cfg);
            rec.put("threads", threads);
            RunRecord.write(out, rec);
        }
        Runnable finish = () -> {
            MemoryTensors weights = MemoryTensors.of(m, "trained model");
            List<String> copied = HfCheckpointWriter.write(out, true, inputs, cfg, weights, weights, Files.isDirectory(tokenizer) ? tokenizer : null,
                    DType.F32, x -> { });
            System.err.println("wrote the model (config.json, model.safetensors" + (copied.isEmpty() ? "" : ", " + String.join(", ", copied)) + ") to " + out
                    + "; try: jllm generate --model " + out + " --prompt TEXT");
        };
        return RunDriver.execute(run, out, ts, src, settings, "train " + out.getFileName(), true, null, finish);
    }

    /** The config to train: the file or preset, with the tokenizer's vocabulary size and special ids. */
    private ObjectNode modelConfig(Tokenizer tok) {
        ObjectNode cfg;
        try {
            if (config != null) {
                var n = JSON.readTree(config.toFile());
                if (!(n instanceof ObjectNode o)) throw new FormatException(config + ": not a JSON object");
                cfg = o;
            } else {
                String s = PretrainPresets.config(preset);
                if (s == null && Presets.names().contains(preset)) s = Presets.config(preset).json().toString();
                if (s == null) throw new IllegalArgumentException("unknown --preset '" + preset + "'; valid: " + String.join(", ", PretrainPresets.names())
                        + " (or " + String.join(", ", Presets.names()) + ")");
                cfg = (ObjectNode) JSON.readTree(s);
            }
        } catch (IOException e) {
            throw new FormatException((config != null ? config : "preset") + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        int vocab = tok.vocabSize();
        if (!cfg.has("vocab_size") || preset != null) cfg.put("vocab_size", vocab);
        else if (cfg.get("vocab_size").asInt() < vocab)
            throw new IllegalArgumentException(config + ": vocab_size " + cfg.get("vocab_size").asInt() + " is smaller than the tokenizer's " + vocab + " tokens");
        if (tok.bosId().isPresent() && (!cfg.has("bos_token_id") || preset != null)) cfg.put("bos_token_id", tok.bosId().getAsInt());
        if (tok.eosId().isPresent() && (!cfg.has("eos_token_id") || preset != null)) cfg.put("eos_token_id", tok.eosId().getAsInt());
        var pad = tok.specialTokens().get("pad_token");
        if (pad != null && tok.tokenId(pad).isPresent() && !cfg.has("pad_token_id")) cfg.put("pad_token_id", tok.tokenId(pad).getAsInt());
        int ctx = cfg.path("max_position_embeddings").asInt(0);
        if (ctx < maxSeq) {
            if (config != null && ctx > 0)
                throw new IllegalArgumentException(config + ": max_position_embeddings " + ctx + " is shorter than --max-seq " + maxSeq);
            cfg.put("max_position_embeddings", maxSeq);
        }
        cfg.put("dtype", "float32");
        return cfg;
    }

    /** {@code \n}, {@code \t}, {@code \\} as a shell cannot easily type them. */
    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) { b.append(c); continue; }
            char n = s.charAt(++i);
            b.append(switch (n) { case 'n' -> '\n'; case 't' -> '\t'; case 'r' -> '\r'; default -> n; });
        }
        return b.toString();
    }

    private static String describe(ObjectNode c) {
        return String.format(Locale.ROOT, "%s hidden %d, %d layers, %d heads, ffn %d, vocab %d", c.path("model_type").asText("?"), c.path("hidden_size").asInt(),
                c.path("num_hidden_layers").asInt(), c.path("num_attention_heads").asInt(), c.path("intermediate_size").asInt(), c.path("vocab_size").asInt());
    }
}
