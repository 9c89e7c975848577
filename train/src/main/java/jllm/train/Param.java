package jllm.train;

/**
 * A trainable tensor: fp32 master values and their gradient, named as it is saved (Hugging Face names
 * for full fine-tuning, PEFT names for adapters). Optimisers see only these.
 */
public final class Param {
    public final String name;
    private final long[] shape;
    public final float[] value, grad;

    public Param(String name, long[] shape, float[] value) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != value.length) throw new IllegalArgumentException(name + ": " + value.length + " values for shape " + java.util.Arrays.toString(shape));
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.grad = new float[value.length];
    }

    public long[] shape() { return shape.clone(); }

    public void zeroGrad() { java.util.Arrays.fill(grad, 0f); }

    @Override public String toString() { return name + java.util.Arrays.toString(shape); }
}
