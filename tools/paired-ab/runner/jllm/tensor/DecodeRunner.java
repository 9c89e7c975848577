/*
 * One decode kernel pass for JarPair: loaded once per jar, each copy in its own class loader, so the
 * same source runs against two builds of the tensor module in one process. In package jllm.tensor
 * because it calls the package-private panel kernel (QuantTensor.int8Rows) directly, on one thread
 * or shared out over threads in chunks as QuantMatmul's decode does.
 */
package jllm.tensor;

import java.util.Random;

public class DecodeRunner {
    private final QuantTensor q;
    private final Panels.Store pk;
    private final Int8Activations act = new Int8Activations();
    private final float[] y;
    private final int panels, reps;
    private final Parallel par;

    public DecodeRunner(int rows, int cols, int reps, String type, int threads) {
        par = Parallel.shared(threads);
        Random r = new Random(1);
        float[] w = new float[rows * cols];
        for (int k = 0; k < w.length; k++) w[k] = (float) r.nextGaussian() * 0.02f;
        q = (QuantTensor) Quantizer.quantize(GgmlType.valueOf(type), w, rows, cols);
        pk = q.panels(Parallel.shared(1));
        float[] x = new float[cols];
        for (int k = 0; k < x.length; k++) x[k] = (float) r.nextGaussian();
        act.fill(null, x, 1, cols);
        y = new float[rows];
        panels = (rows + Panels.P - 1) / Panels.P;
        this.reps = reps;
    }

    /** Nanoseconds for {@code reps} decodes of the whole matrix. */
    public long pass() {
        long t0 = System.nanoTime();
        for (int k = 0; k < reps; k++)
            if (par.threads() == 1) q.int8Rows(pk, act, y, 0, panels, null);
            else par.forRange(panels, par.streamChunk(panels), 4, (p0, p1) -> q.int8Rows(pk, act, y, p0, p1, null));
        return System.nanoTime() - t0;
    }

    /** The first outputs, to check that both builds compute the same values. */
    public float[] head() { return java.util.Arrays.copyOf(y, 4); }
}
