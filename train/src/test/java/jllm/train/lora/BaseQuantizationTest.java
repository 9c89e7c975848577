package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import jllm.tensor.F32Tensor;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Quantizer;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BaseQuantizationTest {
    static float[] gaussian(int n, Random r) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 0.02);
        return a;
    }

    /** Each type gives exactly the bytes of the repository quantizer run on the whole matrix, on any thread count. */
    @Test
    void convertsToTheQuantizersBytes() {
        Random r = new Random(1);
        float[] v = gaussian(37 * 512, r);
        Tensor w = F32Tensor.of(v, 37, 512);
        for (GgmlType t : BaseQuantization.TYPES) {
            byte[] want = Quantizer.quantize(t, v, 37, 512).segment().toArray(ValueLayout.JAVA_BYTE);
            for (int threads : new int[] {1, 3}) {
                Tensor q = BaseQuantization.convert(w, t, Parallel.shared(threads));
                assertEquals(t, BaseQuantization.typeOf(q));
                assertArrayEquals(want, q.segment().toArray(ValueLayout.JAVA_BYTE), t + " on " + threads + " threads");
            }
        }
    }

    @Test
    void reportsTheMemorySavedAndTheFallbacks() {
        Random r = new Random(2);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("model.layers.0.mlp.up_proj.weight", F32Tensor.of(gaussian(64 * 256, r), 64, 256));
        in.put("model.layers.0.mlp.down_proj.weight", F32Tensor.of(gaussian(256 * 96, r), 256, 96));
        in.put("model.layers.0.input_layernorm.weight", F32Tensor.of(gaussian(256, r), 256));
        in.put("odd.weight", F32Tensor.of(gaussian(4 * 20, r), 4, 20));
        Map<String, Tensor> out = new LinkedHashMap<>();
        BaseQuantization.Report rep = BaseQuantization.convert(in, GgmlType.Q4_K, Parallel.shared(2), out);
        assertEquals(3, rep.tensors());
        assertEquals(4L * (64 * 256 + 256 * 96 + 80), rep.bytesBefore());
        // up_proj: 64 rows of one Q4_K block; down_proj: 96 columns are not 256-aligned -> Q8_0 (3 blocks a row); odd: kept
        assertEquals(64 * 144 + 256 * 3 * 34 + 4 * 20 * 4, rep.bytesAfter());
        assertEquals(java.util.List.of("model.layers.0.mlp.down_proj.weight q8_0", "odd.weight f32"), rep.fallbacks());
        assertSame(in.get("model.layers.0.input_layernorm.weight"), out.get("model.layers.0.input_layernorm.weight"));
        assertEquals(GgmlType.Q4_K, BaseQuantization.typeOf(out.get("model.layers.0.mlp.up_proj.weight")));
        assertTrue(rep.summary().startsWith("base weights: 3 matrices, 0.2 MiB -> 0.0 MiB as q4_k (saved 0.1 MiB, "), rep.summary());
        assertTrue(rep.summary().endsWith("kept in other types (row length): model.layers.0.mlp.down_proj.weight q8_0, odd.weight f32"), rep.summary());
    }

    @Test
    void unknownTypesListTheValidOnes() {
        assertEquals(GgmlType.Q4_0, BaseQuantization.parseType("q4_0"));
        assertEquals(GgmlType.Q6_K, BaseQuantization.parseType("Q6_K"));
        assertEquals("unknown --base-type 'q3_k'; valid: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, f16, bf16",
                assertThrows(IllegalArgumentException.class, () -> BaseQuantization.parseType("q3_k")).getMessage());
    }
}
