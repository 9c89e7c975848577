package jllm.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import jllm.model.Positions;
import jllm.train.TrainStep;
import org.junit.jupiter.api.Test;

/** --eval-tokens: evaluations during a run look at the first micro-batches holding that many tokens. */
class EvalPrefixTest {
    static List<TrainStep.Batch> batches(int... lengths) {
        List<TrainStep.Batch> out = new ArrayList<>();
        for (int n : lengths) {
            int[] ids = new int[n];
            out.add(TrainStep.Batch.nextToken(ids, Positions.batch(1, n)));
        }
        return out;
    }

    @Test
    void prefixCoversTheRequestedTokens() {
        List<TrainStep.Batch> val = batches(10, 20, 30);
        assertSame(val, TrainingRun.prefix(val, 0), "0: all of it");
        assertEquals(1, TrainingRun.prefix(val, 1).size());
        assertEquals(1, TrainingRun.prefix(val, 10).size());
        assertEquals(2, TrainingRun.prefix(val, 11).size(), "a micro-batch is taken whole");
        assertEquals(3, TrainingRun.prefix(val, 60).size());
        assertEquals(3, TrainingRun.prefix(val, 1_000).size(), "more than there is: all of it");
    }

    @Test
    void negativeIsRefusedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TrainingRun.Settings(1, 0, 8, 1, 10, 10, -1));
        assertEquals(true, e.getMessage().contains("--eval-tokens"), e.getMessage());
    }
}
