package jllm.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import jllm.generate.Generator;
import jllm.generate.ModelBundle;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (prefill, then decode on the KV cache), streaming it as it comes.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model: HF directory (config.json + safetensors), .gguf, or llama2.c .bin, or 'default' (models/default; also when omitted)")
    Path model;

    @Option(names = "--adapter", description = "LoRA adapter directory (PEFT layout) applied without merging")
    Path adapter;

    @Option(names = "--tokenizer", description = "Tokenizer to use instead of the one beside the model")
    Path tokenizer;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptArg prompt;

    static final class PromptArg {
        @Option(names = "--prompt", description = "Prompt text (tokenized like tokenizer(text): BOS etc. added)")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, comma-separated")
        int[] ids;
    }

    @Option(names = "--max-tokens", defaultValue = "128", description = "Maximum number of tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--stop", description = "Stop when the output contains this string (repeatable)")
    List<String> stop;

    @Option(names = "--print-ids", description = "Print the generated ids (prompt excluded) space-separated on one line")
    boolean printIds;

    @Option(names = "--no-stop", description = "Do not stop at end-of-sequence tokens")
    boolean noStop;

    @Option(names = "--min-tokens", defaultValue = "0",
            description = "End-of-sequence tokens cannot be drawn before this many tokens are generated (transformers' min_new_tokens)")
    int minTokens;

    @Option(names = "--ignore-eos", description = "End-of-sequence tokens are never drawn: generate exactly --max-tokens tokens (llama.cpp's --ignore-eos)")
    boolean ignoreEos;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--exact", description = Models.EXACT)
    boolean exact;

    @Option(names = "--allow-context-overflow",
            description = "Keep generating past the model's context length (max_position_embeddings), as transformers allows; by default generation stops there")
    boolean allowContextOverflow;

    @Override
    public Integer call() {
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0, got " + maxTokens);
        if (minTokens < 0 || minTokens > maxTokens) throw new IllegalArgumentException("--min-tokens must be between 0 and --max-tokens (" + maxTokens + "), got " + minTokens);
        if (prompt.ids != null && prompt.ids.length == 0) throw new IllegalArgumentException("--prompt-ids: give at least one token id");
        var sampler = sampling.sampler();
        ModelBundle b = Models.bundle(Models.resolve(model), tokenizer, null, threads, exact);
        Adapters.attach(b.model, adapter);
        int[] ids = prompt.ids != null ? prompt.ids : b.encodePrompt(prompt.text);
        int vocab = b.model.spec.vocab;
        if (prompt.ids != null)
            for (int id : ids)
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("--prompt-ids: " + id + " is outside the model's vocabulary (0.." + (vocab - 1) + ")");
        try {
            sampler.checkVocabulary(vocab);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage());
        }
        boolean text = !printIds && b.tokenizer != null;
        // With --print-ids (llama2.c's run.c runs to the budget) no end token stops generation.
        Set<Integer> stops = noStop || printIds ? Set.of() : b.stopIds();
        var streamer = text ? b.new Streamer(s -> { System.out.print(s); System.out.flush(); }) : null;
        var req = new Generator.Request(maxTokens, sampler, stops, stop,
                b.tokenizer == null ? null : x -> b.tokenizer.decode(x, true), streamer, null, allowContextOverflow)
                .withMinTokens(ignoreEos ? maxTokens : minTokens, b.stopIds());
        Generator gen = new Generator(b.model);
        int budget;
        try {
            budget = gen.budget(ids.length, req);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("allow running past the context", "pass --allow-context-overflow"));
        }
        if (budget < maxTokens)
            System.err.println("note: --max-tokens " + maxTokens + " capped to " + budget + ": the prompt has " + ids.length
                    + " tokens and the model's context length is " + gen.contextLength() + " (--allow-context-overflow runs past it)");
        Generator.Result r = gen.session().generate(ids, req);
        if (text) System.out.println();
        else System.out.println(Arrays.stream(r.ids()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        if (r.finishReason().equals("context")) System.err.println("stopped: reached the model's context length of " + gen.contextLength() + " tokens");
        return 0;
    }
}
