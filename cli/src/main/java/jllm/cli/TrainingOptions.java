package jllm.cli;

import java.nio.file.Path;
import jllm.train.optim.LrSchedule;
import jllm.train.run.TrainingRun;
import picocli.CommandLine.Option;

/** The options every training command shares (finetune, train): length, batches, schedule, evaluation, checkpoints. */
final class TrainingOptions {
    @Option(names = "--out", required = true, description = "Output directory (refused if it exists and is not empty, unless --overwrite or --resume)")
    Path out;

    @Option(names = "--overwrite", description = "Start a new run in --out even if it holds files (its checkpoints and metrics are replaced)")
    boolean overwrite;

    @Option(names = "--resume", description = "Continue the run in --out from its last complete checkpoint, with its recorded settings")
    boolean resume;

    @Option(names = "--epochs", defaultValue = "1", description = "Passes over the training data (default ${DEFAULT-VALUE}; --max-steps wins when given)")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", description = "Optimizer steps to take (0: --epochs decides)")
    long maxSteps;

    @Option(names = "--batch-size", defaultValue = "8", description = "Examples (rows) per micro-batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step; the loss is normalised by all their target tokens (default ${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--warmup", description = "Warmup steps of the learning rate (default: 5%% of the steps, at most 100)")
    Long warmup;

    @Option(names = "--schedule", description = "Learning-rate schedule after warmup: linear, cosine or constant")
    String schedule;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay, not on biases and norms (default ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Clip the global gradient norm to this (0: off; default ${DEFAULT-VALUE})")
    double gradClip;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the data order, the validation split, initialisation and dropout (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Share of the data held out for validation (default ${DEFAULT-VALUE}; 0: none)")
    double valFraction;

    @Option(names = "--eval-every", description = "Evaluate on the validation set every N steps (default: 10 times per run; 0: at the start and the end only)")
    Integer evalEvery;

    @Option(names = "--eval-tokens", defaultValue = "0", description = "Evaluations during the run look at the first N validation tokens (the last one at all; default 0: all)")
    long evalTokens;

    @Option(names = "--save-every", description = "Write a checkpoint every N steps (default: at each evaluation; 0: only when stopped)")
    Integer saveEvery;

    @Option(names = "--keep-checkpoints", defaultValue = "2", description = "Checkpoints kept (the newest; default ${DEFAULT-VALUE})")
    int keep;

    @Option(names = "--threads", description = "Worker threads (default: all cores; a resumed run should use the same number to repeat the same bits)")
    Integer threads;

    int threads() { return Threads.resolve(threads); }

    TrainingRun.Settings settings(int units) {
        TrainingRun.Settings probe = new TrainingRun.Settings(epochs, maxSteps, batchSize, gradAccum, 0, 0);
        long total = probe.totalSteps(units);
        int eval = evalEvery != null ? evalEvery : (int) Math.max(1, total / 10);
        int save = saveEvery != null ? saveEvery : eval;
        return new TrainingRun.Settings(epochs, maxSteps, batchSize, gradAccum, eval, save, evalTokens);
    }

    LrSchedule schedule(double lr, long total, String defaultKind) {
        long w = warmup != null ? warmup : Math.min(100, Math.max(1, total / 20));
        if (w < 0) throw new IllegalArgumentException("--warmup must be >= 0, not " + w);
        String kind = schedule != null ? schedule : defaultKind;
        return switch (LrSchedule.Kind.parse(kind)) {
            case LINEAR -> LrSchedule.linear(lr, w, total);
            case COSINE -> LrSchedule.cosine(lr, w, total);
            case CONSTANT -> LrSchedule.constant(lr, w);
        };
    }
}
