package jllm.train.optim;

/** One-line errors for hyperparameters, naming the owner, the value and what is allowed. */
final class Checks {
    private Checks() { }

    static double positive(String owner, String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw bad(owner, name, v, "a finite number > 0");
        return v;
    }

    static double nonNegative(String owner, String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw bad(owner, name, v, "a finite number >= 0");
        return v;
    }

    /** {@code [0, 1)}: betas, momentum-like decay rates. */
    static double unitOpen(String owner, String name, double v) {
        if (!(v >= 0 && v < 1)) throw bad(owner, name, v, "in [0, 1)");
        return v;
    }

    /** {@code [0, 1]}: dampening. */
    static double unitClosed(String owner, String name, double v) {
        if (!(v >= 0 && v <= 1)) throw bad(owner, name, v, "in [0, 1]");
        return v;
    }

    static IllegalArgumentException bad(String owner, String name, double v, String allowed) {
        return new IllegalArgumentException(owner + ": " + name + " must be " + allowed + ", got " + fmt(v));
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
