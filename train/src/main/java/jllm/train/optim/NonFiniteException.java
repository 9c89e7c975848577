package jllm.train.optim;

/**
 * A NaN or infinity where training needs finite numbers: the loss, or a gradient. The message names the
 * optimizer step and the parameter (and the first bad element), so a run stops with something to act on
 * (lower the learning rate, enable clipping, check the data) instead of silently training on garbage.
 */
public final class NonFiniteException extends RuntimeException {
    private final long step;
    private final String param;

    public NonFiniteException(long step, String param, String message) {
        super(message);
        this.step = step;
        this.param = param;
    }

    /** The loss of optimizer step {@code step} (1-based, as logged) is not finite. */
    public static NonFiniteException loss(long step, double loss) {
        return new NonFiniteException(step, null, "step " + step + ": loss is " + loss + " (not finite); training stopped");
    }

    /** Element {@code index} of {@code param}'s gradient is {@code value}. */
    static NonFiniteException grad(long step, String param, int index, float value) {
        return new NonFiniteException(step, param, "step " + step + ": gradient of " + param + " is " + value
                + " at element " + index + "; training stopped (lower the learning rate or clip gradients)");
    }

    /** The optimizer step (1-based) at which it was found. */
    public long step() { return step; }

    /** The parameter whose gradient is not finite, or null for the loss. */
    public String param() { return param; }
}
