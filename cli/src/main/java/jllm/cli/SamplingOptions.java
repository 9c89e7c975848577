package jllm.cli;

import jllm.generate.LogitSampler;
import jllm.generate.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling flags shared by generate and chat. */
final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default); > 0 samples from softmax(logits / T)")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = off)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling: smallest set with probability >= p (1 = off)")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens less likely than min-p x the top token (0 = off)")
    double minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "transformers-style repetition penalty over the context (1 = off)")
    double repetitionPenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", description = "OpenAI-style: minus f x count of each generated token")
    double frequencyPenalty;

    @Option(names = "--presence-penalty", defaultValue = "0", description = "OpenAI-style: minus p for every token generated at least once")
    double presencePenalty;

    @Option(names = "--logit-bias", split = ",", description = "Add to logits before sampling: ID=BIAS[,ID=BIAS...] (a finite number; -Infinity bans the token)")
    java.util.Map<Integer, Float> logitBias;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed: the same seed gives the same output")
    long seed;

    /** The sampler; a value out of its domain is an error naming the flag. */
    LogitSampler sampler() {
        try {
            return new LogitSampler(new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty, seed, logitBias));
        } catch (IllegalArgumentException e) {
            // SamplingParams names each knob as the flag is spelled ("top-p must be ..."), without the dashes
            throw new IllegalArgumentException("--" + e.getMessage());
        }
    }
}
