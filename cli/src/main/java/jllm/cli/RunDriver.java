package jllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.train.TrainStep;
import jllm.train.run.BatchSource;
import jllm.train.run.Checkpoints;
import jllm.train.run.MetricsLog;
import jllm.train.run.TrainingRun;

/** The part of {@code finetune} and {@code train} that is the same: output directory, resume, the loop, Ctrl-C, the end. */
final class RunDriver {
    /** Exit code of a run stopped by Ctrl-C after saving (128 + SIGINT, as shells report it). */
    static final int STOPPED = 130;

    private RunDriver() { }

    /** Checks the output directory before any slow work (loading, tokenizing), without creating anything. */
    static void precheck(TrainingOptions o) {
        if (o.resume) {
            if (!Files.isDirectory(o.out)) throw new FormatException(o.out + ": no such directory; nothing to resume");
            return;
        }
        Path parent = o.out.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new FormatException(o.out + ": parent directory " + parent + " does not exist");
        if (Files.exists(o.out) && !Files.isDirectory(o.out)) throw new FormatException(o.out + ": exists and is not a directory");
        try (var s = Files.isDirectory(o.out) ? Files.list(o.out) : java.util.stream.Stream.<Path>empty()) {
            if (s.findAny().isPresent() && !o.overwrite)
                throw new FormatException(o.out + ": already exists and is not empty; pass --overwrite to start a new run there (or --resume to continue it)");
        } catch (IOException e) {
            throw new FormatException(o.out + ": cannot read: " + OutputFile.describe(e), e);
        }
    }

    /**
     * A new run: the output directory, created (an existing non-empty one only with --overwrite, and
     * then the files of an earlier run in it are removed first). A resumed run: it must exist.
     */
    static Path prepare(TrainingOptions o, Collection<Path> inputs) {
        if (o.resume) {
            if (!Files.isDirectory(o.out)) throw new FormatException(o.out + ": no such directory; nothing to resume");
            if (!Files.isWritable(o.out)) throw new FormatException(o.out + ": is not writable");
            return o.out;
        }
        Path dir = OutputFile.directory(o.out, o.overwrite, inputs);
        try {
            deleteTree(dir.resolve(Checkpoints.DIR));
            Files.deleteIfExists(dir.resolve(MetricsLog.FILE));
            Files.deleteIfExists(dir.resolve(RunDisplay.CHART));
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot clear the earlier run's files: " + OutputFile.describe(e), e);
        }
        return dir;
    }

    /**
     * Runs (or resumes) to the end; {@code finish} writes the run's results. Returns the exit code:
     * 0, or {@link #STOPPED} after a Ctrl-C (a checkpoint was written).
     */
    static int execute(TrainingOptions o, Path out, TrainStep ts, BatchSource src, TrainingRun.Settings settings, String title, boolean perChar,
                       Consumer<Path> checkpointExtra, Runnable finish) {
        Checkpoints cps = new Checkpoints(out, o.keep);
        cps.cleanTemporary();
        try (MetricsLog metrics = new MetricsLog(out)) {
            if (o.resume) {
                Path latest = cps.latest().orElseThrow(() -> new FormatException(out + ": no complete checkpoint in " + cps.root() + "; nothing to resume"));
                ts.restore(latest);
                metrics.truncateAfter(ts.steps());
                System.err.println("resuming from " + latest + " (step " + ts.steps() + ")");
            } else {
                metrics.truncateAfter(-1);
            }
            RunDisplay display = new RunDisplay(out, title, perChar);
            TrainingRun run = new TrainingRun(ts, src, settings, cps, metrics, display, checkpointExtra);
            if (ts.steps() >= run.totalSteps() && o.resume)
                System.err.println("the run had already finished its " + run.totalSteps() + " steps; writing its results again");
            var stop = RunDisplay.installStopHandler(display.progress());
            long t0 = System.nanoTime();
            TrainingRun.Outcome r = run.run(stop::get);
            display.progress().finish();
            display.drawChart();
            if (r == TrainingRun.Outcome.STOPPED) {
                System.err.println("stopped at step " + ts.steps() + "; continue with the same command and --resume (--out " + out + ")");
                return STOPPED;
            }
            finish.run();
            System.err.printf(Locale.ROOT, "done: %d steps in %s; results in %s (metrics.jsonl, %s)%n", ts.steps(),
                    ProgressLine.duration((System.nanoTime() - t0) / 1e9), out, RunDisplay.CHART);
            return 0;
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }

    static List<Path> inputs(Path... ps) { return java.util.Arrays.stream(ps).filter(java.util.Objects::nonNull).toList(); }
}
