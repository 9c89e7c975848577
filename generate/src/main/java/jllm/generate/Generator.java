package jllm.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import jllm.model.Model;

/**
 * Prefill the prompt in one batched forward pass, then decode one token at a time on the KV cache.
 * A {@link Session} keeps the cache between calls: a new prompt that extends the previous context
 * (the next chat turn) only runs its new tokens.
 */
public final class Generator {
    private final Model model;

    public Generator(Model model) { this.model = model; }

    public Model model() { return model; }

    public interface TokenListener { void token(int id); }

    /**
     * What to generate. {@code decode} turns ids into text (needed for stop strings); a generated
     * token in {@code stopIds} ends generation and is not part of the output. Until
     * {@code minTokens} tokens exist the {@code endIds} cannot be drawn at all (their logits are
     * -inf), as transformers' {@code min_new_tokens} and llama.cpp's {@code --ignore-eos} do.
     * Prompt and output together stay within the model's context length
     * ({@code max_position_embeddings}): generation stops there with finish reason {@code "context"},
     * and a longer prompt is refused, unless {@code allowContextOverflow} (transformers runs past it;
     * quality is the model's business then).
     */
    public record Request(int maxTokens, Sampler sampler, Set<Integer> stopIds, List<String> stopStrings,
                          Function<int[], String> decode, TokenListener listener, java.util.function.BooleanSupplier cancelled,
                          int minTokens, Set<Integer> endIds, boolean allowContextOverflow) {
        public Request(int maxTokens, Sampler sampler, Set<Integer> stopIds, List<String> stopStrings, Function<int[], String> decode, TokenListener listener) {
            this(maxTokens, sampler, stopIds, stopStrings, decode, listener, null, false);
        }

        public Request(int maxTokens, Sampler sampler, Set<Integer> stopIds, List<String> stopStrings, Function<int[], String> decode,
                       TokenListener listener, java.util.function.BooleanSupplier cancelled) {
            this(maxTokens, sampler, stopIds, stopStrings, decode, listener, cancelled, false);
        }

        public Request(int maxTokens, Sampler sampler, Set<Integer> stopIds, List<String> stopStrings, Function<int[], String> decode,
                       TokenListener listener, java.util.function.BooleanSupplier cancelled, boolean allowContextOverflow) {
            this(maxTokens, sampler, stopIds, stopStrings, decode, listener, cancelled, 0, Set.of(), allowContextOverflow);
        }

        public Request {
            if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0");
            if (minTokens < 0) throw new IllegalArgumentException("min tokens must be >= 0");
            stopIds = stopIds == null ? Set.of() : stopIds;
            stopStrings = stopStrings == null ? List.of() : stopStrings;
            endIds = endIds == null ? Set.of() : endIds;
            if (!stopStrings.isEmpty() && decode == null) throw new IllegalArgumentException("stop strings need a tokenizer to decode with");
        }

        /**
         * transformers' greedy {@code generate(max_new_tokens=...)}: exactly {@code maxTokens} tokens, no stop
         * tokens, and, like transformers, past the context length if asked (reference comparisons need that).
         */
        public static Request greedy(int maxTokens) {
            return new Request(maxTokens, Sampler.GREEDY, Set.of(), List.of(), null, null, null, true);
        }

        /** The same request with {@code endIds} banned until {@code minTokens} tokens are generated. */
        public Request withMinTokens(int minTokens, Set<Integer> endIds) {
            return new Request(maxTokens, sampler, stopIds, stopStrings, decode, listener, cancelled, minTokens, endIds, allowContextOverflow);
        }
    }

    /**
     * Generated ids (stop token excluded), why generation ended ({@code "length"}: max tokens,
     * {@code "context"}: the model's context length, {@code "stop"}, {@code "cancelled"}), and the text
     * when a decoder was given (cut before a stop string).
     */
    public record Result(int[] ids, String finishReason, String text) {}

    /** The model's context length: how many tokens prompt and output may hold together. */
    public int contextLength() { return model.spec.maxPositions; }

    /**
     * How many tokens a request may generate after a prompt of {@code promptLength}: {@code maxTokens},
     * or fewer where the context ends first. A prompt that already fills the context is refused.
     */
    public int budget(int promptLength, Request req) {
        if (req.allowContextOverflow()) return req.maxTokens();
        int ctx = contextLength();
        if (promptLength > ctx)
            throw new IllegalArgumentException("the prompt has " + promptLength + " tokens, more than the model's context length of " + ctx
                    + " (max_position_embeddings); shorten it or allow running past the context");
        return Math.min(req.maxTokens(), ctx - promptLength);
    }

    /** The KV cache and the tokens it holds, reused across calls. */
    public final class Session {
        private final Model.State state = model.newState();
        private int[] tokens = new int[0];

        public int[] tokens() { return tokens.clone(); }

        public Result generate(int[] prompt, Request req) {
            if (prompt.length == 0) throw new IllegalArgumentException("empty prompt: give at least one token (e.g. BOS)");
            int vocab = model.spec.vocab;
            for (int i = 0; i < prompt.length; i++)
                if (prompt[i] < 0 || prompt[i] >= vocab)
                    throw new IllegalArgumentException("prompt token " + (i + 1) + " (id " + prompt[i] + ") is outside the vocabulary (0.." + (vocab - 1) + ")");
            if (req.sampler() instanceof LogitSampler ls) ls.checkVocabulary(vocab);
            int budget = budget(prompt.length, req);
            // Reuse the cached prefix; at least one token must run to produce logits.
            int common = 0;
            while (common < Math.min(tokens.length, prompt.length) && tokens[common] == prompt[common]) common++;
            if (common == prompt.length) common--;
            state.truncate(Math.min(common, state.length()));
            // Where the budget is cut by the context, reaching it ends generation for that reason.
            String full = budget < req.maxTokens() ? "context" : "length";
            // prompt + budget may pass 2^31 when running past the context was asked for: the cache refuses that size
            state.ensure((int) Math.min(Integer.MAX_VALUE, (long) prompt.length + budget));
            int[] out = new int[budget];
            tokens = prompt.clone();
            if (budget == 0) return new Result(out, full, req.decode() == null ? null : "");
            if (req.sampler() instanceof LogitSampler ls) ls.observePrompt(prompt);
            float[] logits = model.forward(state, Arrays.copyOfRange(prompt, common, prompt.length), false, null);
            int n = 0;
            String reason = full, text = null;
            while (n < budget) {
                if (req.cancelled() != null && req.cancelled().getAsBoolean()) { reason = "cancelled"; break; }
                checkFinite(logits, prompt.length + n);
                if (n < req.minTokens()) for (int id : req.endIds()) if (id >= 0 && id < model.spec.vocab) logits[id] = Float.NEGATIVE_INFINITY;
                int next = req.sampler().sample(logits, 0, model.spec.vocab);
                if (req.stopIds().contains(next)) { reason = "stop"; break; }
                out[n++] = next;
                if (req.sampler() instanceof LogitSampler ls) ls.observeGenerated(next);
                if (req.listener() != null) req.listener().token(next);
                if (!req.stopStrings().isEmpty()) {
                    String sofar = req.decode().apply(Arrays.copyOf(out, n));
                    int cut = firstStop(sofar, req.stopStrings());
                    if (cut >= 0) { text = sofar.substring(0, cut); reason = "stop"; break; }
                }
                if (n >= budget) break;
                logits = model.forward(state, new int[] {next}, false, null);
            }
            int[] ids = Arrays.copyOf(out, n);
            // The cache now holds prompt + ids except possibly the last id (not yet run).
            int[] all = Arrays.copyOf(prompt, prompt.length + n);
            System.arraycopy(ids, 0, all, prompt.length, n);
            tokens = Arrays.copyOf(all, state.length());
            if (text == null && req.decode() != null) text = req.decode().apply(ids);
            return new Result(ids, reason, text);
        }
    }

    /** A NaN logit means the model's numbers are broken: say so instead of sampling garbage. */
    private static void checkFinite(float[] logits, int position) {
        for (float v : logits)
            if (Float.isNaN(v))
                throw new jllm.formats.FormatException("the model produced NaN logits at position " + position
                        + "; its weights or config are broken");
    }

    private static int firstStop(String s, List<String> stops) {
        int best = -1;
        for (String st : stops) {
            int i = st.isEmpty() ? -1 : s.indexOf(st);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    public Session session() { return new Session(); }

    /** One-shot generation without a tokenizer: the generated ids. */
    public int[] generate(int[] prompt, Request req) {
        return session().generate(prompt, req).ids();
    }
}
