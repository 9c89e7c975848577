package jllm.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import jllm.generate.Generator;
import jllm.generate.Sampler;
import jllm.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (prefill, then decode on the KV cache).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (config.json + safetensors) or llama2.c .bin")
    Path model;

    @Option(names = "--prompt", description = "Prompt text (needs the model's tokenizer)")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, comma-separated")
    int[] promptIds;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Maximum number of tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

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

    @Option(names = "--logit-bias", split = ",", description = "Add to logits before sampling: ID=BIAS[,ID=BIAS...] (-inf bans)")
    java.util.Map<Integer, Float> logitBias;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed: the same seed gives the same output")
    long seed;

    @Option(names = "--print-ids", description = "Print the generated ids (prompt excluded) space-separated on one line")
    boolean printIds;

    @Option(names = "--no-stop", description = "Do not stop at the end-of-sequence token")
    boolean noStop;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        if ((prompt == null) == (promptIds == null)) throw new IllegalArgumentException("give exactly one of --prompt or --prompt-ids");
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0");
        Model m = Models.load(model, threads);
        int[] ids = promptIds != null ? promptIds : Models.encodePrompt(model, prompt);
        Sampler sampler = new jllm.generate.LogitSampler(new jllm.generate.SamplingParams(temperature, topK, topP, minP,
                repetitionPenalty, frequencyPenalty, presencePenalty, seed, logitBias));
        int[] eos = m.spec.eosIds;
        // llama2.c models mark the end of a story with BOS; with --print-ids we reproduce run.c, which runs to the budget.
        java.util.Set<Integer> stop = noStop || printIds ? java.util.Set.of() : Arrays.stream(eos).boxed().collect(Collectors.toSet());
        int[] out = new Generator(m).generate(ids, new Generator.Request(maxTokens, sampler, stop, null, null, null));
        if (printIds || prompt == null) {
            System.out.println(Arrays.stream(out).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        } else {
            System.out.println(Models.decode(model, out));
        }
        return 0;
    }
}
