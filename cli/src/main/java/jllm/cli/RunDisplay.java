package jllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import jllm.doctor.chart.LineChart;
import jllm.train.run.MetricsLog;
import jllm.train.run.TrainingRun;

/**
 * What a person sees of a training run ({@code finetune}, {@code train}): the live progress line, the
 * evaluation lines, the loss curve ({@code loss.png}: training loss per step and validation loss per
 * evaluation, redrawn at each evaluation and at the end), and Ctrl-C handling (the first stops after
 * the current step with a checkpoint; a second quits at once).
 */
final class RunDisplay implements TrainingRun.Listener {
    static final String CHART = "loss.png";
    private final ProgressLine progress = new ProgressLine();
    private final Path chart;
    private final String title;
    private final boolean perChar;
    private final List<double[]> train = new ArrayList<>(), val = new ArrayList<>();

    /** @param perChar also report validation loss per character (pretraining on a text) */
    RunDisplay(Path outDir, String title, boolean perChar) {
        this.chart = outDir.resolve(CHART);
        this.title = title;
        this.perChar = perChar;
        // A resumed run's curve starts with the steps already taken.
        for (JsonNode n : MetricsLog.read(outDir.resolve(MetricsLog.FILE))) {
            if (n.has("loss")) train.add(new double[] {n.get("step").asDouble(), n.get("loss").asDouble()});
            if (n.has("val_loss")) val.add(new double[] {n.get("step").asDouble(), n.get("val_loss").asDouble()});
        }
    }

    ProgressLine progress() { return progress; }

    @Override
    public void step(TrainingRun.StepInfo s) {
        var r = s.result();
        train.add(new double[] {r.step(), r.loss()});
        progress.update(String.format(Locale.ROOT, "step %d/%d  epoch %.2f  loss %.4f  lr %.2e  %,.0f tok/s  ETA %s", r.step(), s.total(), s.epoch(),
                r.loss(), r.lr(), s.tokensPerSecond(), ProgressLine.duration(s.etaSeconds())), r.step() == s.total());
    }

    @Override
    public void eval(TrainingRun.EvalInfo e) {
        val.add(new double[] {e.step(), e.loss()});
        String pc = perChar && !Double.isNaN(e.natsPerChar()) ? String.format(Locale.ROOT, "  %.4f nats/char", e.natsPerChar()) : "";
        progress.println(String.format(Locale.ROOT, "eval step %d: validation loss %.4f nats/token  perplexity %.3f%s  (%,d tokens)", e.step(), e.loss(),
                e.perplexity(), pc, e.targets()));
        drawChart();
    }

    @Override
    public void checkpoint(long step, Path dir) {
        progress.println("checkpoint " + dir);
    }

    void drawChart() {
        if (train.isEmpty() && val.isEmpty()) return;
        LineChart c = LineChart.of(title, "optimizer step", "cross-entropy (nats per token)").logY(true);
        if (!train.isEmpty()) c.series("train", col(train, 0), col(train, 1));
        if (!val.isEmpty()) c.series("validation", col(val, 0), col(val, 1));
        try {
            c.write(chart, true, List.of());
        } catch (RuntimeException e) {
            progress.println("warning: cannot draw " + chart + ": " + e.getMessage());
        }
    }

    private static double[] col(List<double[]> pts, int i) {
        double[] out = new double[pts.size()];
        for (int k = 0; k < out.length; k++) out[k] = pts.get(k)[i];
        return out;
    }

    /** Ctrl-C: the first asks the run to stop after the current step (it then saves); the second quits at once. */
    static AtomicBoolean installStopHandler(ProgressLine progress) {
        AtomicBoolean stop = new AtomicBoolean();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                if (stop.getAndSet(true)) Runtime.getRuntime().halt(130);
                progress.println("stopping after this step to save a checkpoint (Ctrl-C again to quit without saving)");
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal support: Ctrl-C ends the JVM as usual (the last checkpoint stays)
        }
        return stop;
    }
}
