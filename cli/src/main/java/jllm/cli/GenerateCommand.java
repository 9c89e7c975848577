package jllm.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
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

    @Option(names = "--seed", defaultValue = "42", description = "Random seed for sampling")
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
        Sampler sampler = temperature <= 0 ? Sampler.GREEDY : temperatureSampler(temperature, new Random(seed));
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

    static Sampler temperatureSampler(double t, Random rnd) {
        return (logits, off, vocab) -> {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
            double[] p = new double[vocab];
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += p[i] = Math.exp((logits[off + i] - max) / t);
            double r = rnd.nextDouble() * sum;
            for (int i = 0; i < vocab; i++) if ((r -= p[i]) <= 0) return i;
            return vocab - 1;
        };
    }
}
