package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.train.bench.TrainBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Measure training steps (LoRA or full fine-tuning) on random tokens: tokens/s, peak RSS, the GEMMs' share of the",
                "fp32 FMA peak measured in the same run, and where each step's time goes.",
                "The last line is always: train_tok_s=<float> peak_rss_mb=<int>"})
final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model directory or file")
    Path model;

    @Option(names = "--preset", description = "Random weights of a preset geometry instead of --model: ${COMPLETION-CANDIDATES}",
            completionCandidates = BenchCommand.PresetNames.class)
    String preset;

    @Option(names = "--seq", defaultValue = "256", description = "Tokens per row (default ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--batch", defaultValue = "1", description = "Rows per step (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lora-r", defaultValue = "16", description = "LoRA rank (default ${DEFAULT-VALUE})")
    int loraR;

    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (default ${DEFAULT-VALUE})")
    double loraAlpha;

    @Option(names = "--lora-dropout", defaultValue = "0", description = "LoRA dropout (default ${DEFAULT-VALUE})")
    double loraDropout;

    @Option(names = "--lora-targets", defaultValue = "all-linear", description = "Modules to adapt, comma-separated, or all-linear (default ${DEFAULT-VALUE})")
    String loraTargets;

    @Option(names = "--full", description = "Full fine-tuning of every weight instead of LoRA")
    boolean full;

    @Option(names = "--no-checkpointing", description = "Keep every layer's activations instead of recomputing them in backward")
    boolean noCheckpointing;

    @Option(names = "--checkpointing", description = "Recompute layers in backward (the default for LoRA; off by default with --full)")
    boolean checkpointing;

    @Option(names = "--checkpoint-keep", defaultValue = "256", paramLabel = "MiB",
            description = "Memory checkpointing may spend keeping layers' q/k/v/gate/up outputs instead of recomputing them (default ${DEFAULT-VALUE}; 0 = recompute all)")
    long checkpointKeep;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--steps", defaultValue = "3", description = "Timed steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed steps first, so the JIT has compiled the kernels (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--base-type", description = "Frozen base weights as: bf16 (preset default), f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k")
    String baseType;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of random weights, tokens and adapters")
    long seed;

    @Override
    public Integer call() {
        if (checkpointing && noCheckpointing) throw new IllegalArgumentException("give at most one of --checkpointing and --no-checkpointing");
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        boolean ckpt = checkpointing || (!noCheckpointing && !full);
        var lora = full ? null : TrainBench.lora(loraR, loraAlpha, loraDropout, loraTargets);
        TrainBench.run(new TrainBench.Options(preset, model, seq, batch, full, lora, n, ckpt, steps, warmup, baseType, seed, 1.0, checkpointKeep),
                System.out, System.err::println);
        return 0;
    }
}
