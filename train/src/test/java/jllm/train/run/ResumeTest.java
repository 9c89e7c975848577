package jllm.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.train.Fixtures;
import jllm.train.TrainStep;
import jllm.train.Trainable;
import jllm.train.lora.LoraConfig;
import jllm.train.optim.LrSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped after a checkpoint and resumed in a fresh model reaches the same losses, bit for bit,
 * as one that never stopped (LoRA with dropout, gradient accumulation, two epochs with their own
 * orders); a checkpoint that fails half-way (a full disk) leaves the previous one and the pointer intact.
 */
class ResumeTest {
    @TempDir Path dir;

    static final int STEPS = 10;

    record Setup(TrainStep ts, BatchSource src, TrainingRun.Settings settings) { }

    static Setup setup(long seed) {
        Model m = ModelLoader.load(Fixtures.root().resolve("hf/llama3"), CpuBackend.reproducible(2), w -> { });
        Random r = new Random(5);
        int[] train = new int[900], val = new int[120];
        for (int i = 0; i < train.length; i++) train[i] = 3 + r.nextInt(m.spec.vocab - 3);
        for (int i = 0; i < val.length; i++) val[i] = 3 + r.nextInt(m.spec.vocab - 3);
        BatchSource src = Batches.text(train, val, 500, 32, 1, seed);
        TrainingRun.Settings s = new TrainingRun.Settings(1, STEPS, 3, 2, 4, 3);
        Trainable t = Trainable.lora(m, new LoraConfig(4, 8, 0.1, false, List.of("all-linear")), seed);
        TrainStep ts = TrainStep.builder(m, t, LrSchedule.cosine(5e-3, 2, STEPS)).seed(seed).build();
        return new Setup(ts, src, s);
    }

    static List<Double> losses(Path out) {
        return MetricsLog.read(out.resolve(MetricsLog.FILE)).stream().filter(n -> n.has("loss")).map(n -> n.get("loss").asDouble()).toList();
    }

    static List<JsonNode> evals(Path out) {
        return MetricsLog.read(out.resolve(MetricsLog.FILE)).stream().filter(n -> n.has("val_loss")).toList();
    }

    TrainingRun.Outcome run(Setup st, Path out, java.util.function.BooleanSupplier stop, boolean resume) {
        Checkpoints cps = new Checkpoints(out, 2);
        try (MetricsLog ml = new MetricsLog(out)) {
            if (resume) {
                Path latest = cps.latest().orElseThrow();
                st.ts().restore(latest);
                ml.truncateAfter(st.ts().steps());
            }
            return new TrainingRun(st.ts(), st.src(), st.settings(), cps, ml, new TrainingRun.Listener() { }, null).run(stop);
        }
    }

    @Test
    void resumedRunReachesTheSameLosses() throws Exception {
        Path a = Files.createDirectory(dir.resolve("a")), b = Files.createDirectory(dir.resolve("b"));
        Setup whole = setup(11);
        assertTrue(whole.src().size() > whole.settings().unitsPerStep() * 2, "several steps per epoch");
        assertEquals(TrainingRun.Outcome.FINISHED, run(whole, a, () -> false, false));
        assertTrue(STEPS > whole.settings().stepsPerEpoch(whole.src().size()), "the run crosses an epoch boundary");

        Setup first = setup(11);
        assertEquals(TrainingRun.Outcome.STOPPED, run(first, b, () -> first.ts().steps() == 5, false));
        assertTrue(Files.isDirectory(b.resolve("checkpoints/step-000005")));
        // The metrics of the stopped run may run past the checkpoint (a crash after it): the resume cuts them back.
        new MetricsLog(b).append(MetricsLog.line().put("step", 6).put("loss", 123.0));
        Setup second = setup(11);
        assertEquals(TrainingRun.Outcome.FINISHED, run(second, b, () -> false, true));
        assertEquals(losses(a), losses(b));
        assertEquals(STEPS, losses(b).size());
        assertEquals(evals(a).stream().map(n -> n.get("val_loss").asDouble()).toList(), evals(b).stream().map(n -> n.get("val_loss").asDouble()).toList());
        var pa = whole.ts().trainable().params();
        var pb = second.ts().trainable().params();
        for (int i = 0; i < pa.size(); i++) assertTrue(java.util.Arrays.equals(pa.get(i).value, pb.get(i).value), pa.get(i).name);
    }

    @Test
    void aCheckpointThatFailsHalfWayLeavesThePreviousOne() throws Exception {
        Path out = Files.createDirectory(dir.resolve("c"));
        Checkpoints cps = new Checkpoints(out, 2);
        Path first = cps.save(new Checkpoints.Position(2, 0, 6), d -> OutputFile.writeString(d.resolve("w.bin"), true, "two"));
        var e = assertThrows(FormatException.class, () -> cps.save(new Checkpoints.Position(4, 0, 12), d -> {
            OutputFile.writeString(d.resolve("w.bin"), true, "fo");
            throw new FormatException(d.resolve("opt.bin") + ": cannot write: no space left on device");
        }));
        assertTrue(e.getMessage().contains("no space left"), e.getMessage());
        assertEquals(first, cps.latest().orElseThrow());
        assertEquals("two", Files.readString(first.resolve("w.bin")));
        assertEquals(2, Checkpoints.position(first).step());
        try (var s = Files.list(cps.root())) {
            assertEquals(List.of("latest", "step-000002"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no half checkpoint, no temp dir");
        }
        // A pointer naming a checkpoint that is gone falls back to the newest complete one; older ones are pruned to keep.
        cps.save(new Checkpoints.Position(4, 0, 12), d -> { });
        cps.save(new Checkpoints.Position(6, 0, 18), d -> { });
        assertFalse(Files.exists(cps.root().resolve("step-000002")), "only the newest 2 are kept");
        Files.writeString(cps.root().resolve("latest"), "step-000099\n");
        assertEquals(cps.root().resolve("step-000006"), cps.latest().orElseThrow());
        // A crash between rename and pointer: a temp dir left behind is cleaned.
        Files.createDirectories(cps.root().resolve(".tmp-step-000008-1"));
        cps.cleanTemporary();
        assertFalse(Files.exists(cps.root().resolve(".tmp-step-000008-1")));
    }
}
