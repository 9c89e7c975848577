package jllm.train.pretrain;

import java.util.SplittableRandom;
import jllm.formats.TensorStore;
import jllm.model.Architectures;
import jllm.model.Config;
import jllm.model.RandomWeights;
import jllm.model.Spec;
import jllm.tensor.GgmlType;
import jllm.tensor.HeapF32Tensor;
import jllm.tensor.Parallel;
import jllm.train.merge.MemoryTensors;

/**
 * The weights a model starts pretraining from, as GPT-2 and transformers' Llama initialise them:
 * <ul>
 *   <li>every matrix (embedding, attention and MLP projections, untied LM head) from
 *       {@code N(0, 0.02²)} (transformers' {@code initializer_range}, 0.02 by default);</li>
 *   <li>the projections that write into the residual stream ({@code o_proj}, {@code down_proj}) with
 *       standard deviation {@code 0.02 / sqrt(2 L)}, as GPT-2 does (each of the 2L residual additions
 *       then adds variance ~1/(2L) of the others, so the stream's scale does not grow with depth);</li>
 *   <li>norm gains 1 (0 for Gemma-style {@code 1 + w} norms), biases 0.</li>
 * </ul>
 * Values are drawn per row from a generator seeded by the run's seed, the tensor's name and the row,
 * so they do not depend on the thread count or on the order tensors are made in.
 */
public final class PretrainInit {
    public static final double STD = 0.02;

    private PretrainInit() { }

    public static MemoryTensors weights(Config c, long seed, int threads) {
        Spec s = Architectures.forConfig(c).spec(c);
        double std = c.num("initializer_range", STD);
        double residualStd = std / Math.sqrt(2.0 * s.layers);
        // RandomWeights knows every tensor name and shape of a dense decoder; the values are ours.
        TensorStore shapes = new RandomWeights(c, GgmlType.F32, seed, 1);
        Parallel par = Parallel.shared(threads);
        MemoryTensors out = new MemoryTensors("random init (seed " + seed + ")");
        float norm = s.normOnePlus ? 0f : 1f;
        for (String name : shapes.names()) {
            long[] shape = shapes.info(name).shape();
            if (shape.length == 1) {
                float[] v = new float[(int) shape[0]];
                if (!name.endsWith(".bias")) java.util.Arrays.fill(v, norm);
                out.put(name, new HeapF32Tensor(v, shape));
                continue;
            }
            int rows = Math.toIntExact(shape[0]), cols = Math.toIntExact(shape[1]);
            double sd = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residualStd : std;
            float[] v = new float[Math.multiplyExact(rows, cols)];
            long h = seed * 0x9E3779B97F4A7C15L ^ name.hashCode() * 0xC2B2AE3D27D4EB4FL;
            par.forRange(rows, 16, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    SplittableRandom rnd = new SplittableRandom(h + r * 0xBF58476D1CE4E5B9L);
                    for (int i = 0; i < cols; i++) v[r * cols + i] = (float) (rnd.nextGaussian() * sd);
                }
            });
            out.put(name, new HeapF32Tensor(v, shape));
        }
        return out;
    }
}
