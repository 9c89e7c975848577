package jllm.train.predict;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import jllm.generate.Generator;
import jllm.model.Model;
import jllm.tensor.CpuBackend;
import jllm.tokenizer.Tokenizer;
import jllm.train.data.PredictionInputs;
import jllm.train.data.PromptFormat;

/**
 * Greedy answers for {@code jllm predict}: each row's prompt (built by {@link PredictionInputs}
 * exactly as training built it) is prefilled in one batched forward pass and decoded on the KV
 * cache until a stop token or the budget.
 *
 * <p>Rows are independent, so small models decode several rows at once, one row per worker, each
 * worker with its own single-threaded backend over the same weights (a small model's per-token work
 * is too little to share between threads, and rows are plenty). Larger models decode one row at a
 * time with every thread on each matrix product. Within a worker, consecutive rows share one KV
 * cache: the part of a prompt equal to the previous row's (a table template's fixed opening, a
 * system prompt) is not computed again. The answers do not depend on either choice: the same greedy
 * tokens come out (each row's logits are the same function of its own tokens).
 */
public final class Predictor {
    /** Below this many weights per token a model decodes rows in parallel (one thread each). */
    static final long ROW_PARALLEL_BELOW = 60_000_000L;

    private final Model model;
    private final Tokenizer tok;
    private final Set<Integer> stopIds;
    private final PromptFormat format;
    private final int threads;

    public Predictor(Model model, Tokenizer tok, Set<Integer> stopIds, PromptFormat format, int threads) {
        this.model = model;
        this.tok = tok;
        this.stopIds = Set.copyOf(stopIds);
        this.format = format;
        this.threads = Math.max(1, threads);
    }

    /** Weights read per generated token (what decides whether rows go in parallel). */
    static long weightsPerToken(Model m) {
        long n = 0;
        for (jllm.model.Weights.Linear l : m.weights.linears()) n += (long) l.in() * l.out();
        return n + (long) m.spec.hidden * m.spec.vocab;
    }

    /**
     * The answers in row order. {@code done} is told each finished row's index (from any thread).
     */
    public List<String> predict(List<PredictionInputs.Item> items, int maxTokens, IntConsumer done) {
        String[] out = new String[items.size()];
        int workers = weightsPerToken(model) < ROW_PARALLEL_BELOW ? Math.min(threads, Math.max(1, items.size())) : 1;
        if (workers == 1) {
            Generator.Session s = new Generator(model).session();
            for (int i = 0; i < items.size(); i++) {
                out[i] = answer(s, items.get(i), maxTokens);
                done.accept(i);
            }
            return Arrays.asList(out);
        }
        // Worker w takes rows w, w + workers, ...: rows next to each other in the file often share more of their prompt.
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "jllm-predict");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                fs.add(pool.submit(() -> {
                    Model one = new Model(model.spec, model.weights, new CpuBackend(1));
                    Generator.Session s = new Generator(one).session();
                    for (int i; (i = next.getAndIncrement()) < items.size(); ) {
                        out[i] = answer(s, items.get(i), maxTokens);
                        done.accept(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error er) throw er;
            throw new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } finally {
            pool.shutdownNow();
        }
        return Arrays.asList(out);
    }

    private String answer(Generator.Session s, PredictionInputs.Item item, int maxTokens) {
        int[] prompt = item.promptIds();
        int limit = model.spec.maxPositions;
        if (limit > 0 && prompt.length >= limit)
            throw new IllegalArgumentException(item.row().where() + ": the prompt has " + prompt.length + " tokens; the model holds "
                    + limit + " positions");
        int budget = limit > 0 ? Math.min(maxTokens, limit - prompt.length) : maxTokens;
        Generator.Result r = s.generate(prompt, new Generator.Request(budget, jllm.generate.Sampler.GREEDY, stopIds, List.of(), null, null));
        return response(tok.decode(r.ids(), true));
    }

    /** The plain format writes a separator between prompt and response; the answer is what follows it. */
    String response(String generated) {
        if (format.style() == PromptFormat.Style.PLAIN && format.separator() != null && !format.separator().isEmpty()
                && generated.startsWith(format.separator()))
            return generated.substring(format.separator().length());
        return generated;
    }
}
