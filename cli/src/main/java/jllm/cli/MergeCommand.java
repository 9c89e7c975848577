package jllm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.tensor.Parallel;
import jllm.train.merge.BaseCheckpoint;
import jllm.train.merge.HfCheckpointWriter;
import jllm.train.merge.MergedTensors;
import jllm.train.peft.PeftAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Merge a LoRA adapter into its base model: W + s·B·A in fp32, written in the Hugging Face layout",
                "(config.json, model.safetensors in the base's dtype, tokenizer and generation files copied)."})
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Base model: HF directory, .gguf, llama2.c .bin, or 'default' (also when omitted)")
    Path model;

    @Option(names = "--adapter", required = true, description = "LoRA adapter directory (PEFT layout)")
    Path adapter;

    @Option(names = "--out", required = true, description = "Output directory (Hugging Face layout)")
    Path out;

    @Option(names = "--overwrite", description = "Write into --out even if it exists and is not empty")
    boolean overwrite;

    @Option(names = "--dtype", defaultValue = "f16", description = "What a quantized (GGUF) base is written as: f32, f16, bf16 (default ${DEFAULT-VALUE}); other bases keep their dtype")
    String dtype;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        var quantizedAs = HfCheckpointWriter.parseDtype(dtype);
        Path base = Models.resolve(model);
        List<Path> inputs = List.of(base, adapter);
        long t0 = System.nanoTime();
        PeftAdapter a = PeftAdapter.read(adapter);
        int n = Threads.resolve(threads);
        try (BaseCheckpoint b = BaseCheckpoint.open(base)) {
            b.requireHfExpressible();
            MergedTensors merged = new MergedTensors(b.tensors(), a, Parallel.shared(n));
            ProgressLine progress = new ProgressLine();
            List<String> copied = HfCheckpointWriter.write(out, overwrite, inputs, b.config(), b.tensors(), merged, b.dir(), quantizedAs,
                    s -> progress.update("merge " + s, false));
            progress.finish();
            System.err.printf(Locale.ROOT, "merged %d LoRA layers (scale %.4g) into %s; wrote %s in %.1f s%n", a.layers.size(), a.config.scale(),
                    base, out, (System.nanoTime() - t0) / 1e9);
            if (copied.isEmpty()) System.err.println("warning: " + base + " has no tokenizer files beside it; pass --tokenizer " + base
                    + " when running " + out);
            else System.err.println("copied " + String.join(", ", copied));
        }
        return 0;
    }
}
