package jllm.train.optim;

import java.util.Locale;

/**
 * The learning rate of each optimizer step, as transformers' {@code get_constant_schedule_with_warmup},
 * {@code get_linear_schedule_with_warmup} and {@code get_cosine_schedule_with_warmup} (half a cosine
 * wave) give it: {@code lr(step) = baseLr * factor(step)} where {@code step} counts the optimizer steps
 * already taken (0 for the first update) and
 * <pre>
 *   warmup:   step / max(1, warmup)                                   for step &lt; warmup
 *   constant: 1
 *   linear:   max(0, (total - step) / max(1, total - warmup))
 *   cosine:   max(0, 0.5 * (1 + cos(pi * cycles * 2 * (step - warmup) / max(1, total - warmup))))
 * </pre>
 * As in transformers, the first step of a warmup runs with learning rate 0.
 */
public record LrSchedule(Kind kind, double baseLr, long warmupSteps, long totalSteps, double cycles) {
    public enum Kind {
        CONSTANT, LINEAR, COSINE;

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
            throw new IllegalArgumentException("unknown learning-rate schedule '" + s + "'; valid: constant, linear, cosine");
        }

        public String id() { return name().toLowerCase(Locale.ROOT); }
    }

    public LrSchedule {
        Checks.positive("schedule", "learning rate", baseLr);
        if (warmupSteps < 0) throw Checks.bad("schedule", "warmup steps", warmupSteps, "an integer >= 0");
        if (kind != Kind.CONSTANT && totalSteps < 1) throw Checks.bad("schedule", "total steps", totalSteps, "an integer >= 1 for a " + kind.id() + " schedule");
        if (totalSteps < 0) throw Checks.bad("schedule", "total steps", totalSteps, "an integer >= 0");
        if (kind == Kind.COSINE) Checks.positive("schedule", "cosine cycles", cycles);
    }

    public static LrSchedule constant(double lr, long warmup) { return new LrSchedule(Kind.CONSTANT, lr, warmup, 0, 0.5); }

    public static LrSchedule linear(double lr, long warmup, long total) { return new LrSchedule(Kind.LINEAR, lr, warmup, total, 0.5); }

    public static LrSchedule cosine(double lr, long warmup, long total) { return new LrSchedule(Kind.COSINE, lr, warmup, total, 0.5); }

    /** The learning rate for the update after {@code step} updates (0-based). */
    public double lr(long step) { return baseLr * factor(step); }

    public double factor(long step) {
        if (step < 0) throw new IllegalArgumentException("schedule: step must be >= 0, got " + step);
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        double decay = Math.max(1, totalSteps - warmupSteps);
        return switch (kind) {
            case CONSTANT -> 1;
            case LINEAR -> Math.max(0, (totalSteps - step) / decay);
            case COSINE -> Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2.0 * ((step - warmupSteps) / decay))));
        };
    }
}
