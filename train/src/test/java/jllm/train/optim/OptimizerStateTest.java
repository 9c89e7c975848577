package jllm.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import jllm.formats.FormatException;
import jllm.train.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run saved after 3 steps and resumed continues to the same bits as a run that never stopped. */
class OptimizerStateTest {
    @TempDir Path dir;

    static List<Param> params(Random r) {
        Param a = new Param("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new long[] {4, 6}, gaussian(24, r));
        Param b = new Param("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", new long[] {6, 4}, gaussian(24, r));
        return List.of(a, b);
    }

    static float[] gaussian(int n, Random r) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static void run(Optimizer opt, LrSchedule s, int from, int to) {
        for (int step = from; step < to; step++) {
            Random g = new Random(100 + step);
            for (Param p : opt.params()) for (int i = 0; i < p.grad.length; i++) p.grad[i] = (float) g.nextGaussian();
            opt.step(s.lr(opt.steps()));
        }
    }

    void resumes(Function<List<Param>, Optimizer> make) {
        LrSchedule s = LrSchedule.cosine(1e-2, 2, 6);
        Optimizer straight = make.apply(params(new Random(1)));
        run(straight, s, 0, 6);

        Optimizer first = make.apply(params(new Random(1)));
        run(first, s, 0, 3);
        OptimizerState.save(dir, first, s);
        List<Param> resumedParams = params(new Random(1));
        for (int i = 0; i < resumedParams.size(); i++) System.arraycopy(first.params().get(i).value, 0, resumedParams.get(i).value, 0, 24);
        Optimizer resumed = make.apply(resumedParams);
        OptimizerState.Saved saved = OptimizerState.load(dir, resumed);
        assertEquals(3, saved.step());
        assertEquals(3, resumed.steps());
        assertEquals("cosine", saved.schedule().path("kind").asText());
        run(resumed, s, 3, 6);
        for (int i = 0; i < 2; i++) assertArrayEquals(straight.params().get(i).value, resumed.params().get(i).value);
    }

    @Test
    void adamWResumesBitForBit() throws Exception {
        resumes(ps -> new AdamW(ps, new AdamW.Config(0.9, 0.99, 1e-8, 0.1)));
        String json = Files.readString(dir.resolve(OptimizerState.JSON));
        assertTrue(json.contains("\"optimizer\" : \"adamw\"") && json.contains("\"step\" : 3") && json.contains("\"weight_decay\" : 0.1"), json);
    }

    @Test
    void sgdResumesBitForBit() {
        resumes(ps -> new Sgd(ps, new Sgd.Config(0.9, 0, 0, true)));
    }

    @Test
    void mismatchedCheckpointsAreRefusedByName() {
        Optimizer a = new AdamW(params(new Random(1)), AdamW.Config.DEFAULT);
        run(a, LrSchedule.constant(1e-3, 0), 0, 1);
        OptimizerState.save(dir, a, null);
        String sgd = assertThrows(FormatException.class, () -> OptimizerState.load(dir, new Sgd(params(new Random(1)), new Sgd.Config(0.9, 0, 0, false)))).getMessage();
        assertTrue(sgd.endsWith("state of a adamw optimizer, but this run uses sgd"), sgd);
        Param other = new Param("other", new long[] {3}, new float[3]);
        String missing = assertThrows(FormatException.class, () -> OptimizerState.load(dir, new AdamW(List.of(params(new Random(1)).get(0), other), AdamW.Config.DEFAULT))).getMessage();
        assertTrue(missing.endsWith("has no state for parameter other"), missing);
        Param reshaped = new Param("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new long[] {6, 4}, new float[24]);
        String shape = assertThrows(FormatException.class, () -> OptimizerState.load(dir, new AdamW(List.of(reshaped, params(new Random(1)).get(1)), AdamW.Config.DEFAULT))).getMessage();
        assertTrue(shape.endsWith("q_proj.lora_A.weight was [4, 6], is now [6, 4]"), shape);
        String none = assertThrows(FormatException.class, () -> OptimizerState.load(dir.resolve("nope"), a)).getMessage();
        assertTrue(none.contains("cannot read optimizer state"), none);
    }
}
