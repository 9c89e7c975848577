package jllm.doctor.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import jllm.tensor.BF16Tensor;
import org.junit.jupiter.api.Test;

/** Format constants against published values; rounding against independent implementations. */
class NumericsTest {
    private static void range(NumberFormat.Float f, double max, double minNormal, double minSub) {
        assertEquals(max, f.max(), 0, f.name() + " max");
        assertEquals(minNormal, f.minNormal(), 0, f.name() + " min normal");
        assertEquals(minSub, f.minSubnormal(), 0, f.name() + " min subnormal");
    }

    @Test
    void ocpMicroscalingTablesAndIeee() {
        // OCP 8-bit Floating Point Specification (OFP8) rev 1.0 and OCP Microscaling Formats (MX) v1.0, tables 1-2.
        range(NumberFormat.E4M3, 448, 0x1p-6, 0x1p-9);
        range(NumberFormat.E5M2, 57344, 0x1p-14, 0x1p-16);
        range(NumberFormat.E2M3, 7.5, 1.0, 0.125);
        range(NumberFormat.E3M2, 28, 0.25, 0.0625);
        range(NumberFormat.E2M1, 6, 1.0, 0.5);
        range(NumberFormat.FP16, 65504, 0x1p-14, 0x1p-24);
        range(NumberFormat.FP32, Float.MAX_VALUE, Float.MIN_NORMAL, Float.MIN_VALUE);
        assertEquals(3.3895313892515355e38, NumberFormat.BF16.max(), 0);
        assertEquals(0x1p-7, NumberFormat.BF16.epsilon());
        assertEquals(0x1p-10, NumberFormat.FP16.epsilon());
        assertEquals(Math.ulp(1f), NumberFormat.FP32.epsilon());
        assertEquals(List.of(8 + 23 * 23, 5 + 100, 4 + 9, 2 + 1), List.of(NumberFormat.FP32.multiplierCost(), NumberFormat.FP16.multiplierCost(),
                NumberFormat.E4M3.multiplierCost(), NumberFormat.E2M1.multiplierCost()));
    }

    @Test
    void fp4HasExactlyTheSpecValues() {
        java.util.TreeSet<Double> v = new java.util.TreeSet<>();
        for (double x = 0; x <= 8; x += 1 / 64.0) v.add(NumberFormat.E2M1.round(x));
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0), List.copyOf(v));
        assertEquals(448.0, NumberFormat.E4M3.round(470), "E4M3 has no Inf: saturates");
        assertEquals(Double.POSITIVE_INFINITY, NumberFormat.E5M2.round(61440), "E5M2 rounds past max + half a step to Inf");
        assertEquals(57344.0, NumberFormat.E5M2.round(61439));
    }

    @Test
    void roundingMatchesTheJdkAndTheBf16Kernel() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-12, 8)));
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(x)), (float) NumberFormat.FP16.round(x), 0, "fp16 " + x);
            assertEquals(BF16Tensor.toFloat(BF16Tensor.fromFloat(x)), (float) NumberFormat.BF16.round(x), 0, "bf16 " + x);
            assertEquals(x, (float) NumberFormat.FP32.round(x), 0);
        }
    }

    @Test
    void nf4LevelsAreTheQloraTable() {
        // bitsandbytes functional.py get_4bit_type("nf4") (QLoRA, Dettmers et al. 2023, appendix E)
        double[] published = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
                -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434,
                0.5626170039176941, 0.7229568362236023, 1.0};
        assertArrayEquals(published, Nf4Levels.levels(), 1e-6); // torch builds the probabilities in fp32
    }

    @Test
    void errorsOrderAsTheFormatsPrecision() {
        float[] x = Numerics.normal(1 << 16, 0.02, 1);
        double bf16 = Numerics.error(NumberFormat.BF16, x).castRel(), fp16 = Numerics.error(NumberFormat.FP16, x).castRel();
        assertTrue(fp16 < bf16 && bf16 < 0.003, fp16 + " " + bf16);
        // fp4 without scaling flushes 0.02-sized weights to zero; MX scaling rescues it.
        var fp4 = Numerics.error(NumberFormat.E2M1, x);
        assertEquals(1.0, fp4.castRel(), 1e-9);
        assertTrue(fp4.scaledRel() < 0.2, "" + fp4.scaledRel());
        double int8 = Numerics.error(new NumberFormat.Int8(32), x).scaledRel(), e4m3 = Numerics.error(NumberFormat.E4M3, x).scaledRel();
        assertTrue(int8 < e4m3, int8 + " " + e4m3);
    }

    @Test
    void ropePositionsCollapseInBf16Around8192() {
        var rows = Numerics.ropePositions(8190, 8193);
        for (var r : rows) assertEquals(8192.0, r.bf16(), "bf16(" + r.position() + ")");
        assertEquals(2.0, rows.getFirst().bf16AngleErr());
        assertTrue(Numerics.bf16Collisions(8150, 8240).get(8192.0).containsAll(List.of(8190, 8191, 8192, 8193)));
        assertTrue(Numerics.ropeChart(16384).png().length > 5000);
    }
}
