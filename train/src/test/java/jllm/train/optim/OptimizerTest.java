package jllm.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import jllm.tensor.Parallel;
import jllm.train.Param;
import org.junit.jupiter.api.Test;

/**
 * Optimizers against trajectories printed by PyTorch 1.13 ({@code torch.optim.AdamW} / {@code SGD} on
 * the same five gradients; script in the comment of {@link #TORCH_SCRIPT}) and against the closed forms
 * of their first steps.
 */
class OptimizerTest {
    /**
     * The script that printed the expected values (torch 1.13.0, float32):
     * <pre>
     * p = Parameter(tensor([0.5, -1.25, 2.0, 0.0, 3e-4]))
     * for s in range(5): p.grad = tensor([0.1*(s+1), -0.3, 0.02*(-1)**s, 1e-3, 5.0/(s+1)]); opt.step()
     * </pre>
     */
    static final String TORCH_SCRIPT = "see class comment";

    static final float[] START = {0.5f, -1.25f, 2.0f, 0.0f, 3e-4f};

    static float[] grad(int s) { return new float[] {0.1f * (s + 1), -0.3f, (float) (0.02 * (s % 2 == 0 ? 1 : -1)), 1e-3f, (float) (5.0 / (s + 1))}; }

    static final float[][] ADAMW = {{0.4895000159740448f, -1.2387499809265137f, 1.9880000352859497f, -0.009999900124967098f, -0.009700299240648746f}, {0.4793587028980255f, -1.2275112867355347f, 1.9865384101867676f, -0.019989799708127975f, -0.019012395292520523f}, {0.4692993462085724f, -1.2162837982177734f, 1.981194019317627f, -0.0299697108566761f, -0.027724968269467354f}, {0.45922595262527466f, -1.20506751537323f, 1.9797391891479492f, -0.03993964195251465f, -0.03590963035821915f}, {0.44909435510635376f, -1.1938624382019043f, 1.9757152795791626f, -0.04989960417151451f, -0.04362256079912186f}};
    static final float[][] SGD_MOMENTUM = {{0.4894999861717224f, -1.21875f, 1.996000051498413f, -0.00010000000474974513f, -0.49970030784606934f}, {0.461609423160553f, -1.162528157234192f, 1.9924036264419556f, -0.00027991001843474805f, -1.174250841140747f}, {0.4090924859046936f, -1.083882212638855f, 1.985573649406433f, -0.0005315770977176726f, -1.9302895069122314f}, {0.3254590630531311f, -0.9851253628730774f, 1.9794397354125977f, -0.0008475990616716444f, -2.721487045288086f}, {0.20489606261253357f, -0.8683575987815857f, 1.9703376293182373f, -0.0012212559813633561f, -3.521115303039551f}};
    static final float[][] SGD_NESTEROV = {{0.48100000619888306f, -1.1929999589920044f, 1.9961999654769897f, -0.0001900000061141327f, -0.9496999979019165f}, {0.4349000155925751f, -1.1116999387741089f, 1.9983799457550049f, -0.0004610000178217888f, -1.829699993133545f}, {0.3544100224971771f, -1.0085299015045166f, 1.9947419166564941f, -0.0008049000171013176f, -2.7133665084838867f}, {0.2329690307378769f, -0.885676920413971f, 1.9970676898956299f, -0.0012144100619480014f, -3.5961666107177734f}, {0.06467212736606598f, -0.7451092004776001f, 1.9935609102249146f, -0.0016829690430313349f, -4.468186378479004f}};
    static final float[][] SGD_PLAIN = {{0.49000000953674316f, -1.2200000286102295f, 1.9980000257492065f, -0.00010000000474974513f, -0.49970000982284546f}, {0.4699999988079071f, -1.190000057220459f, 2.0f, -0.00020000000949949026f, -0.7497000098228455f}, {0.4399999976158142f, -1.1600000858306885f, 1.9980000257492065f, -0.0003000000142492354f, -0.916366696357727f}, {0.4000000059604645f, -1.130000114440918f, 2.0f, -0.0004000000189989805f, -1.041366696357727f}, {0.3499999940395355f, -1.1000001430511475f, 1.9980000257492065f, -0.0005000000237487257f, -1.141366720199585f}};

    static Param param() { return new Param("w", new long[] {5}, START.clone()); }

    static void followsTorch(String name, Function<List<Param>, Optimizer> make, double lr, float[][] want) {
        Param p = param();
        Optimizer opt = make.apply(List.of(p));
        for (int s = 0; s < want.length; s++) {
            System.arraycopy(grad(s), 0, p.grad, 0, 5);
            opt.step(lr);
            for (int i = 0; i < 5; i++)
                // torch 1.13 forms m as m*b1 + (1-b1)*g, torch 2 (and we) as lerp: a few ulp apart
                assertEquals(want[s][i], p.value[i], 4e-7 * Math.abs(want[s][i]) + 1e-9, name + " step " + (s + 1) + " element " + i);
        }
        assertEquals(want.length, opt.steps());
    }

    @Test
    void adamWFollowsPyTorch() {
        followsTorch("AdamW", ps -> new AdamW(ps, new AdamW.Config(0.9, 0.999, 1e-8, 0.1)), 1e-2, ADAMW);
    }

    @Test
    void sgdFollowsPyTorch() {
        followsTorch("SGD momentum", ps -> new Sgd(ps, new Sgd.Config(0.9, 0.1, 0.01, false)), 0.1, SGD_MOMENTUM);
        followsTorch("SGD Nesterov", ps -> new Sgd(ps, new Sgd.Config(0.9, 0, 0, true)), 0.1, SGD_NESTEROV);
        followsTorch("SGD", ps -> new Sgd(ps, Sgd.Config.PLAIN), 0.1, SGD_PLAIN);
    }

    /** Adam's first step is lr * g / (|g| + eps): about lr * sign(g) whatever the gradient's size. */
    @Test
    void adamWFirstStepMovesEachWeightByTheLearningRate() {
        Random r = new Random(3);
        float[] w = new float[1000];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        Param p = new Param("w", new long[] {1000}, w.clone());
        for (int i = 0; i < w.length; i++) p.grad[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 6));
        double lr = 1e-3;
        new AdamW(List.of(p), new AdamW.Config(0.9, 0.999, 1e-8, 0)).step(lr);
        for (int i = 0; i < w.length; i++) {
            double g = p.grad[i], want = w[i] - lr * g / (Math.abs(g) + 1e-8);
            assertEquals(want, p.value[i], 1e-6 * Math.abs(w[i]) + 1e-9, "element " + i);
            if (Math.abs(g) > 1e-4) assertEquals(lr, Math.abs(p.value[i] - w[i]), 2e-4 * lr + 2e-7 * Math.abs(w[i]));
        }
    }

    /** Decoupled decay: with a zero gradient, AdamW only shrinks the weight by lr * wd. */
    @Test
    void weightDecayIsDecoupledAndSelectable() {
        Param w = new Param("model.layers.0.mlp.up_proj.weight", new long[] {2}, new float[] {1f, -2f});
        Param n = new Param("model.layers.0.input_layernorm.weight", new long[] {2}, new float[] {1f, -2f});
        Param b = new Param("model.layers.0.self_attn.q_proj.bias", new long[] {2}, new float[] {1f, -2f});
        AdamW opt = new AdamW(List.of(w, n, b), new AdamW.Config(0.9, 0.999, 1e-8, 0.5), AdamW.noBiasOrNorm(), null);
        opt.step(0.1);
        assertArrayEquals(new float[] {0.95f, -1.9f}, w.value);
        assertArrayEquals(new float[] {1f, -2f}, n.value);
        assertArrayEquals(new float[] {1f, -2f}, b.value);
    }

    @Test
    void updatesAreTheSameBitsOnAnyThreadCount() {
        Random r = new Random(4);
        float[] start = new float[200_000], g = new float[start.length];
        for (int i = 0; i < start.length; i++) { start[i] = (float) r.nextGaussian(); g[i] = (float) r.nextGaussian(); }
        float[] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            Param p = new Param("w", new long[] {start.length}, start.clone());
            AdamW opt = new AdamW(List.of(p), AdamW.Config.DEFAULT, q -> true, Parallel.shared(threads));
            for (int s = 0; s < 3; s++) {
                System.arraycopy(g, 0, p.grad, 0, g.length);
                opt.step(1e-3);
            }
            if (first == null) first = p.value;
            else assertArrayEquals(first, p.value);
        }
    }

    @Test
    void nonFiniteGradientsStopNamingStepAndParameter() {
        Param a = new Param("lora_A", new long[] {3}, new float[3]), b = new Param("lora_B", new long[] {3}, new float[3]);
        AdamW opt = new AdamW(List.of(a, b), AdamW.Config.DEFAULT);
        opt.step(1e-3);
        opt.step(1e-3);
        b.grad[2] = Float.NaN;
        float[] before = a.value.clone();
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> opt.step(1e-3));
        assertEquals("step 3: gradient of lora_B is NaN at element 2; training stopped (lower the learning rate or clip gradients)", e.getMessage());
        assertEquals(3, e.step());
        assertEquals("lora_B", e.param());
        assertArrayEquals(before, a.value, "no parameter may change in a refused step");
        assertEquals(2, opt.steps());
        b.grad[2] = Float.NEGATIVE_INFINITY;
        assertTrue(assertThrows(NonFiniteException.class, () -> GradClip.clip(List.of(a, b), 1, 7, null)).getMessage().startsWith("step 7: gradient of lora_B is -Infinity"));
        assertEquals("step 12: loss is NaN (not finite); training stopped", NonFiniteException.loss(12, Double.NaN).getMessage());
    }

    @Test
    void invalidHyperparametersAreOneLineErrors() {
        assertEquals("AdamW: beta1 must be in [0, 1), got 1", msg(() -> new AdamW.Config(1, 0.999, 1e-8, 0)));
        assertEquals("AdamW: beta2 must be in [0, 1), got -0.1", msg(() -> new AdamW.Config(0.9, -0.1, 1e-8, 0)));
        assertEquals("AdamW: eps must be a finite number > 0, got 0", msg(() -> new AdamW.Config(0.9, 0.999, 0, 0)));
        assertEquals("AdamW: weight decay must be a finite number >= 0, got -0.01", msg(() -> new AdamW.Config(0.9, 0.999, 1e-8, -0.01)));
        assertEquals("AdamW: beta1 must be in [0, 1), got NaN", msg(() -> new AdamW.Config(Double.NaN, 0.999, 1e-8, 0)));
        assertEquals("SGD: momentum must be in [0, 1), got -0.5", msg(() -> new Sgd.Config(-0.5, 0, 0, false)));
        assertEquals("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum 0.9, dampening 0.1", msg(() -> new Sgd.Config(0.9, 0.1, 0, true)));
        assertEquals("schedule: learning rate must be a finite number > 0, got 0", msg(() -> LrSchedule.constant(0, 0)));
        assertEquals("schedule: learning rate must be a finite number > 0, got NaN", msg(() -> LrSchedule.linear(Double.NaN, 0, 10)));
        assertEquals("schedule: learning rate must be a finite number > 0, got -0.001", msg(() -> LrSchedule.cosine(-1e-3, 0, 10)));
        assertEquals("schedule: warmup steps must be an integer >= 0, got -1", msg(() -> LrSchedule.linear(1e-3, -1, 10)));
        assertEquals("schedule: total steps must be an integer >= 1 for a cosine schedule, got 0", msg(() -> LrSchedule.cosine(1e-3, 0, 0)));
        assertEquals("unknown learning-rate schedule 'cosin'; valid: constant, linear, cosine", msg(() -> LrSchedule.Kind.parse("cosin")));
        assertEquals("gradient clipping: max norm must be a finite number > 0, got 0", msg(() -> GradClip.clip(List.of(param()), 0, 1, null)));
        assertEquals("AdamW: learning rate must be a finite number >= 0, got Infinity", msg(() -> new AdamW(List.of(param()), AdamW.Config.DEFAULT).step(Double.POSITIVE_INFINITY)));
        assertEquals("AdamW: no trainable parameters", msg(() -> new AdamW(List.of(), AdamW.Config.DEFAULT)));
        assertEquals("AdamW: parameter w is listed twice", msg(() -> { Param p = param(); new AdamW(List.of(p, p), AdamW.Config.DEFAULT); }));
    }

    static String msg(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }
}
