package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import jllm.tensor.CpuBackend;
import jllm.tensor.F32Tensor;
import jllm.tensor.Gemm;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Tensor;
import jllm.train.optim.AdamW;
import jllm.train.optim.GradClip;
import jllm.train.optim.LrSchedule;
import org.junit.jupiter.api.Test;

/**
 * The pieces composed as the engine will: a frozen base quantized at load to Q4_0, a LoRA pair on it,
 * forward through the backend, backward through {@link Gemm#dyW} and the adapter, clipping, AdamW on a
 * cosine schedule. The adapter learns a rank-4 change of the layer: the loss falls a hundredfold.
 */
class QloraStepTest {
    @Test
    void anAdapterOnAQuantizedBaseLearnsALowRankChange() {
        Random r = new Random(3);
        int in = 64, out = 48, rows = 32, steps = 120;
        float[] w = new float[out * in], u = new float[out * 4], v = new float[4 * in], x = new float[rows * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.1);
        for (int i = 0; i < u.length; i++) u[i] = (float) (r.nextGaussian() * 0.3);
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.3);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Tensor base = BaseQuantization.convert(F32Tensor.of(w, out, in), GgmlType.Q4_0, Parallel.shared(1));
        // target: the quantized base plus a rank-4 update u v
        float[] target = new float[rows * out];
        CpuBackend be = new CpuBackend(1);
        be.matmul(base, x, target, rows, null);
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < out; o++)
                for (int j = 0; j < 4; j++) {
                    double uv = 0;
                    for (int c = 0; c < in; c++) uv += (double) v[j * in + c] * x[t * in + c];
                    target[t * out + o] += (float) (u[o * 4 + j] * uv);
                }
        LoraWeights lora = LoraWeights.create("layer", in, out, new LoraConfig(8, 16, 0, false, List.of("layer")), 11);
        AdamW opt = new AdamW(List.of(lora.a, lora.b), new AdamW.Config(0.9, 0.999, 1e-8, 0));
        LrSchedule sched = LrSchedule.cosine(1e-2, 10, steps);
        double first = 0, last = 0;
        float[] y = new float[rows * out], dy = new float[rows * out], dx = new float[rows * in];
        for (int s = 0; s < steps; s++) {
            be.matmul(base, x, y, rows, null);
            LoraWeights.Saved saved = lora.forward(Parallel.shared(1), x, rows, y, s);
            double loss = 0;
            for (int i = 0; i < y.length; i++) {
                double d = y[i] - target[i];
                loss += d * d / y.length;
                dy[i] = (float) (2 * d / y.length);
            }
            if (s == 0) first = loss;
            last = loss;
            opt.zeroGrad();
            Gemm.dyW(Parallel.shared(1), base, dy, rows, dx, false);
            lora.backward(Parallel.shared(1), saved, x, dy, dx);
            GradClip.clip(opt.params(), 1.0, opt.steps() + 1, Parallel.shared(1));
            opt.step(sched.lr(opt.steps()));
        }
        assertTrue(last < first / 100, "loss " + first + " -> " + last);
    }
}
