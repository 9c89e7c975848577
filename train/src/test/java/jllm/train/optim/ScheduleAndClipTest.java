package jllm.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import jllm.tensor.Parallel;
import jllm.train.Param;
import org.junit.jupiter.api.Test;

class ScheduleAndClipTest {
    /** Values of transformers' lr lambdas worked out by hand from their definitions. */
    @Test
    void schedulesFollowTransformers() {
        LrSchedule lin = LrSchedule.linear(2e-4, 10, 110);
        assertEquals(0, lin.lr(0));
        assertEquals(1e-4, lin.lr(5), 1e-18);
        assertEquals(2e-4, lin.lr(10), 1e-18);
        assertEquals(1e-4, lin.lr(60), 1e-18);
        assertEquals(2e-6, lin.lr(109), 1e-18);
        assertEquals(0, lin.lr(110));
        assertEquals(0, lin.lr(500));

        LrSchedule cos = LrSchedule.cosine(1e-3, 10, 110);
        assertEquals(3e-4, cos.lr(3), 1e-18);
        assertEquals(1e-3, cos.lr(10), 1e-18);
        assertEquals(0.5e-3 * (1 + Math.cos(Math.PI * 0.25)), cos.lr(35), 1e-18);
        assertEquals(0.5e-3, cos.lr(60), 1e-15);
        assertEquals(0, cos.lr(110), 1e-18);

        LrSchedule con = LrSchedule.constant(5e-5, 4);
        assertEquals(1.25e-5, con.lr(1), 1e-18);
        assertEquals(5e-5, con.lr(4));
        assertEquals(5e-5, con.lr(1_000_000));
        assertEquals(5e-5, LrSchedule.constant(5e-5, 0).lr(0));
        // no warmup: the first step already runs at the full rate
        assertEquals(1e-3, LrSchedule.cosine(1e-3, 0, 100).lr(0));
    }

    /** torch.nn.utils.clip_grad_norm_([a, b], 2.5) with a.grad = [3, 4], b.grad = [12, 0, -0.5] (torch 1.13). */
    @Test
    void clippingFollowsPyTorch() {
        Param a = new Param("a", new long[] {2}, new float[2]), b = new Param("b", new long[] {3}, new float[3]);
        a.grad[0] = 3; a.grad[1] = 4;
        b.grad[0] = 12; b.grad[2] = -0.5f;
        double norm = GradClip.clip(List.of(a, b), 2.5, 1, Parallel.shared(2));
        assertEquals(13.009612083435059, norm, 1e-6);
        assertArrayEquals(new float[] {0.5764967799186707f, 0.7686623930931091f}, a.grad, 1e-7f);
        assertArrayEquals(new float[] {2.3059871196746826f, 0.0f, -0.09608279913663864f}, b.grad, 1e-7f);
        // below the limit nothing changes
        float[] before = b.grad.clone();
        GradClip.clip(List.of(b), 100, 2, null);
        assertArrayEquals(before, b.grad);
    }

    @Test
    void theNormIsAccumulatedInDoubleAndIndependentOfThreads() {
        // 2^20 gradients of 1e-3 plus one of 1: fp32 accumulation of the squares would drift visibly
        Param p = new Param("p", new long[] {1 << 20}, new float[1 << 20]);
        java.util.Arrays.fill(p.grad, 1e-3f);
        p.grad[0] = 1;
        double want = Math.sqrt(1 + ((1 << 20) - 1) * (double) 1e-3f * 1e-3f);
        assertEquals(want, GradClip.norm(List.of(p), Parallel.shared(1)), 1e-12 * want);
        assertEquals(GradClip.norm(List.of(p), Parallel.shared(1)), GradClip.norm(List.of(p), Parallel.shared(3)));
    }
}
