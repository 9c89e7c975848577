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

    @Override
    public Integer call() {
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0");
        if (minTokens < 0 || minTokens > maxTokens) throw new IllegalArgumentException("--min-tokens must be between 0 and --max-tokens (" + maxTokens + "), got " + minTokens);
        ModelBundle b = Models.bundle(Models.resolve(model), tokenizer, null, threads);
        Adapters.attach(b.model, adapter);
        int[] ids = prompt.ids != null ? prompt.ids : b.encodePrompt(prompt.text);
        boolean text = !printIds && b.tokenizer != null;
        // With --print-ids (llama2.c's run.c runs to the budget) no end token stops generation.
        Set<Integer> stops = noStop || printIds ? Set.of() : b.stopIds();
        var streamer = text ? b.new Streamer(s -> { System.out.print(s); System.out.flush(); }) : null;
        var req = new Generator.Request(maxTokens, sampling.sampler(), stops, stop,
                b.tokenizer == null ? null : x -> b.tokenizer.decode(x, true), streamer).withMinTokens(ignoreEos ? maxTokens : minTokens, b.stopIds());
        Generator.Result r = new Generator(b.model).session().generate(ids, req);
        if (text) System.out.println();
        else System.out.println(Arrays.stream(r.ids()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        return 0;
    }
}
