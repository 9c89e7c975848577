package jllm.tensor;

/** Special functions the JDK lacks. */
public final class MathUtil {
    private MathUtil() {}

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    /**
     * erf to ~1e-15 absolute: its Maclaurin series near 0 (where it converges without harmful
     * cancellation) and the Laplace continued fraction for erfc further out. java.lang.Math has no
     * erf, and exact-GELU models need one well below fp32 round-off.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) return Math.copySign(1.0, x);
        if (ax < 2.5) {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 80; n++) {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
            }
            return TWO_OVER_SQRT_PI * sum;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.copySign(1.0 - erfc, x);
    }
}
