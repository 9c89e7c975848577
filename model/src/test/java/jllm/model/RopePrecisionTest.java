package jllm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import jllm.tensor.Precision;
import org.junit.jupiter.api.Test;

/** RoPE tables computed in a low precision: the well-known bug where positions past a few hundred merge. */
class RopePrecisionTest {
    final Rope rope = Rope.fromConfig(Config.of("{\"rope_theta\": 10000.0, \"max_position_embeddings\": 16384}"), null, 64, false);

    @Test
    void bf16AnglesMergeNeighbouringPositions() {
        int[] pos = {8190, 8191, 8192};
        float[][] bf = rope.tables(pos, 3, Precision.BF16), fp = rope.tables(pos, 3, Precision.FP32);
        int half = 32;
        // frequency 0 (inverse frequency 1): the angle is the position itself, and 8190..8192 are one bf16 value
        assertEquals(bf[0][0], bf[0][half]);
        assertEquals(bf[0][half], bf[0][2 * half]);
        assertEquals(bf[1][0], bf[1][2 * half]);
        assertNotEquals(fp[0][0], fp[0][half]);
        for (float v : bf[0]) assertEquals(v, Precision.BF16.round(v), "cos is a bf16 value");
        // fp16 holds every integer up to 2048
        float[][] h = rope.tables(new int[] {1000, 1001}, 2, Precision.FP16);
        assertNotEquals(h[0][0], h[0][half], "fp16 still separates positions around 1000");
    }

    @Test
    void fp32IsTheOrdinaryTable() {
        int[] pos = {0, 1, 5, 300, 4000};
        float[][] a = rope.tables(pos, pos.length), b = rope.tables(pos, pos.length, Precision.FP32);
        assertArrayEquals(a[0], b[0]);
        assertArrayEquals(a[1], b[1]);
    }
}
