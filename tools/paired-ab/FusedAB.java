/*
 * Paired in-process A/B of decode's layer projections: one decoder layer's q, k, v, gate and up
 * (Llama 3.2 1B shapes) over `layers` copies, each pass either as five separate matmuls or as two
 * jobs (Backend.matmuls), alternating pass by pass so that both see the same minute of this VM's
 * memory bandwidth; prints best and median Gw/s and the median of the per-pass time ratios.
 * Between two processes the bandwidth here moved by +-20%; paired passes resolve ~2%.
 *
 *   . bin/jdk25.sh && mvn -q -o -pl tensor -am install -DskipTests
 *   CP=tensor/target/jllm-tensor-0.1.0-SNAPSHOT.jar
 *   javac --add-modules jdk.incubator.vector -cp $CP -d /tmp/pab tools/paired-ab/FusedAB.java
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
 *        -cp $CP:/tmp/pab FusedAB Q4_K 16 300 2        (type, layers, passes, threads)
 */
import jllm.tensor.*;
import java.lang.foreign.*;
import java.util.*;

public class FusedAB {
    public static void main(String[] a) {
        GgmlType type = GgmlType.valueOf(a[0]);
        int layers = Integer.parseInt(a[1]), passes = Integer.parseInt(a[2]), threads = Integer.parseInt(a[3]);
        int[][] shapes = {{2048, 2048}, {512, 2048}, {512, 2048}, {8192, 2048}, {8192, 2048}};
        Random r = new Random(1);
        Tensor[] first = new Tensor[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            float[] w = new float[shapes[i][0] * shapes[i][1]];
            for (int k = 0; k < w.length; k++) w[k] = (float) r.nextGaussian() * 0.02f;
            first[i] = Quantizer.quantize(type, w, shapes[i][0], shapes[i][1]);
        }
        Tensor[][] ws = new Tensor[layers][shapes.length];
        for (int l = 0; l < layers; l++)
            for (int i = 0; i < shapes.length; i++) {
                MemorySegment s = Arena.ofAuto().allocate(first[i].segment().byteSize(), 64);
                s.copyFrom(first[i].segment());
                ws[l][i] = Tensors.of(type, s, shapes[i][0], shapes[i][1]);
            }
        CpuBackend be = new CpuBackend(threads);
        float[] x = new float[2048];
        for (int k = 0; k < x.length; k++) x[k] = (float) r.nextGaussian();
        float[][] y = new float[shapes.length][];
        Buf[] yb = new Buf[shapes.length];
        for (int i = 0; i < shapes.length; i++) { y[i] = new float[shapes[i][0]]; yb[i] = be.wrap(y[i]); }
        Buf xb = be.wrap(x);
        long[][] t = new long[2][passes];
        for (int p = 0; p < passes + 4; p++)
            for (int mode = 0; mode < 2; mode++) {
                int m = (p & 1) == 0 ? mode : 1 - mode;
                long t0 = System.nanoTime();
                for (int l = 0; l < layers; l++) {
                    Tensor[] w = ws[l];
                    if (m == 0) for (int i = 0; i < 5; i++) be.matmul(w[i], x, y[i], 1, null);
                    else {
                        be.matmuls(new Tensor[] {w[0], w[1], w[2]}, xb, new Buf[] {yb[0], yb[1], yb[2]}, 1, null);
                        be.matmuls(new Tensor[] {w[3], w[4]}, xb, new Buf[] {yb[3], yb[4]}, 1, null);
                    }
                }
                if (p >= 4) t[m][p - 4] = System.nanoTime() - t0;
            }
        double weights = 0;
        for (int[] s : shapes) weights += (double) s[0] * s[1];
        weights *= layers;
        for (int m = 0; m < 2; m++) {
            long[] s = t[m].clone(); Arrays.sort(s);
            System.out.printf("%s %s: best %.1f Gw/s median %.1f Gw/s%n", type, m == 0 ? "separate" : "fused", weights / s[0], weights / s[s.length / 2]);
        }
        // paired ratio per pass
        double[] ratio = new double[passes];
        for (int p = 0; p < passes; p++) ratio[p] = (double) t[0][p] / t[1][p];
        Arrays.sort(ratio);
        System.out.printf("separate/fused time ratio: median %.3f (p25 %.3f, p75 %.3f)%n", ratio[passes / 2], ratio[passes / 4], ratio[3 * passes / 4]);
    }
}
