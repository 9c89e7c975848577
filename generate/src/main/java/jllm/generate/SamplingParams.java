package jllm.generate;

import java.util.Map;

/**
 * The usual sampling knobs. Defaults do nothing (temperature 0 = greedy). Penalties follow their
 * definitions: {@code repetitionPenalty} as in transformers/CTRL (divide positive logits, multiply
 * negative ones, for every token already in the context), {@code frequencyPenalty} and
 * {@code presencePenalty} as in the OpenAI API (subtract count·f + (count > 0)·p over generated tokens).
 * Messages name each knob as its command-line flag does (without the dashes).
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, double repetitionPenalty,
                             double frequencyPenalty, double presencePenalty, long seed, Map<Integer, Float> logitBias) {
    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0, 1, 0, 0, 0, Map.of());

    public SamplingParams {
        if (temperature < 0 || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        if (!(repetitionPenalty > 0) || !Double.isFinite(repetitionPenalty)) throw new IllegalArgumentException("repetition-penalty must be > 0, got " + repetitionPenalty);
        if (!Double.isFinite(frequencyPenalty)) throw new IllegalArgumentException("frequency-penalty must be finite, got " + frequencyPenalty);
        if (!Double.isFinite(presencePenalty)) throw new IllegalArgumentException("presence-penalty must be finite, got " + presencePenalty);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        logitBias.forEach((id, b) -> {
            if (id == null || id < 0) throw new IllegalArgumentException("logit-bias: token id must be >= 0, got " + id);
            if (b == null || Float.isNaN(b) || b == Float.POSITIVE_INFINITY)
                throw new IllegalArgumentException("logit-bias for token " + id + " must be a finite number or -Infinity (never sample it), got " + b);
        });
    }

    public boolean greedy() { return temperature == 0; }
}
