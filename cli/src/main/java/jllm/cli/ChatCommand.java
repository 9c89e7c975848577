package jllm.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import jllm.generate.Generator;
import jllm.generate.ModelBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Interactive multi-turn chat through the model's chat template. Each turn re-renders the whole
 * conversation and the session's KV cache keeps the common prefix, so only the new turn's tokens
 * are prefilled. Ctrl-C stops a reply (and quits at the prompt); Ctrl-D / end of input quits;
 * {@code /reset} forgets the conversation (the system prompt stays).
 */
@Command(name = "chat", mixinStandardHelpOptions = true, description = "Chat with a model through its chat template.")
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model: HF directory, .gguf, or llama2.c .bin, or 'default' (models/default; also when omitted)")
    Path model;

    @Option(names = "--adapter", description = "LoRA adapter directory (PEFT layout) applied without merging")
    Path adapter;

    @Option(names = "--tokenizer", description = "Tokenizer to use instead of the one beside the model")
    Path tokenizer;

    @Option(names = "--chat-template", description = "Jinja chat template file instead of the model's own")
    Path chatTemplate;

    @Option(names = "--system", description = "System prompt")
    String system;

    @Option(names = "--max-tokens", defaultValue = "512", description = "Maximum tokens per reply (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--exact", description = Models.EXACT)
    boolean exact;

    @Option(names = "--stats", description = "Print prefill/decode token counts and speed after each reply")
    boolean stats;

    @Option(names = "--allow-context-overflow",
            description = "Let the conversation grow past the model's context length (max_position_embeddings); by default a reply stops there")
    boolean allowContextOverflow;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0, got " + maxTokens);
        var sampler = sampling.sampler();
        ModelBundle b = Models.bundle(Models.resolve(model), tokenizer, chatTemplate, threads, exact);
        Adapters.attach(b.model, adapter);
        b.requireTokenizer();
        if (!b.hasChatTemplate()) throw new IllegalArgumentException("this model has no chat template; pass --chat-template FILE");
        try {
            sampler.checkVocabulary(b.model.spec.vocab);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage());
        }
        Generator gen = new Generator(b.model);
        Generator.Session session = gen.session();
        List<Map<String, Object>> messages = new ArrayList<>();
        if (system != null) messages.add(ModelBundle.message("system", system));
        AtomicBoolean generating = new AtomicBoolean(), cancel = new AtomicBoolean();
        installInterruptHandler(generating, cancel);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        boolean tty = System.console() != null;
        while (true) {
            if (tty) { System.out.print("> "); System.out.flush(); }
            String line = in.readLine();
            if (line == null) break;
            if (line.isBlank()) continue;
            if (line.equals("/exit") || line.equals("/quit")) break;
            if (line.equals("/reset")) {
                messages.subList(system != null ? 1 : 0, messages.size()).clear();
                System.out.println("[conversation cleared]");
                continue;
            }
            messages.add(ModelBundle.message("user", line));
            String prompt;
            try {
                prompt = b.renderChat(messages, true);
            } catch (jllm.template.TemplateException e) {
                // The template is untrusted (it may come from a downloaded GGUF): its failures, limits included, are one line.
                System.err.println("error: chat template: " + e.getMessage());
                return TemplateCommand.TEMPLATE_RAISED;
            }
            int[] ids = b.encodeChat(prompt);
            if (!allowContextOverflow && ids.length >= gen.contextLength()) {
                messages.removeLast();
                System.out.println("[the conversation (" + ids.length + " tokens with this message) no longer fits the model's context of "
                        + gen.contextLength() + " tokens; /reset starts over]");
                continue;
            }
            int cached = commonPrefix(session.tokens(), ids);
            cancel.set(false);
            generating.set(true);
            long t0 = System.nanoTime();
            var streamer = b.new Streamer(s -> { System.out.print(s); System.out.flush(); });
            Generator.Result r;
            try {
                r = session.generate(ids, new Generator.Request(maxTokens, sampler, b.stopIds(), null,
                        x -> b.tokenizer.decode(x, true), streamer, cancel::get, allowContextOverflow));
            } finally {
                generating.set(false);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.println();
            if (r.finishReason().equals("cancelled")) System.out.println("[stopped]");
            if (r.finishReason().equals("context")) System.out.println("[stopped: the model's context of " + gen.contextLength() + " tokens is full; /reset starts over]");
            if (stats) System.err.printf("[%d prompt tokens, %d reused from cache, %d generated, %.2f s]%n", ids.length, cached, r.ids().length, s);
            messages.add(ModelBundle.message("assistant", r.text()));
        }
        return 0;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int i = 0;
        while (i < Math.min(a.length, b.length) && a[i] == b[i]) i++;
        return i;
    }

    /** Ctrl-C during a reply cancels the reply; at the prompt it exits. */
    private static void installInterruptHandler(AtomicBoolean generating, AtomicBoolean cancel) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                if (generating.get()) cancel.set(true);
                else {
                    System.out.println();
                    System.exit(130);
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal support on this platform: Ctrl-C keeps its default meaning
        }
    }
}
