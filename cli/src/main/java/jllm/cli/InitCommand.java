package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.formats.gguf.GgufWriter;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Config;
import jllm.model.Presets;
import jllm.model.RandomWeights;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a model with random weights and a real model's exact shapes (for benchmarks and tests).")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--preset", required = true, description = "${COMPLETION-CANDIDATES}", completionCandidates = BenchCommand.PresetNames.class)
    String preset;

    @Option(names = "--out", required = true, description = "Output: a .gguf file, or a directory for --format hf")
    Path out;

    @Option(names = "--format", defaultValue = "gguf", description = "gguf or hf (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--type", defaultValue = "f16", description = "gguf: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k; hf: f32, f16, bf16")
    String type;

    @Option(names = "--tokenizer", description = "Tokenizer directory to embed (tokenizer.json, tokenizer_config.json) so llama.cpp/Ollama can load the file")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Override
    public Integer call() throws Exception {
        Config c = Presets.config(preset);
        int threads = Runtime.getRuntime().availableProcessors();
        switch (format) {
            case "gguf" -> {
                GgufConverter.FileType ft = GgufConverter.FileType.parse(type);
                // Random weights are generated directly in the file's main type; the converter copies them as they are.
                GgmlType gen = ft == GgufConverter.FileType.Q4_K_M ? GgmlType.Q4_K : ft == GgufConverter.FileType.Q5_K_M ? GgmlType.Q5_K : ft.base;
                RandomWeights rw = new RandomWeights(c, gen, seed, threads);
                GgufWriter w = new GgufWriter();
                GgufConverter.addModel(w, c, rw, ft, preset + "-random", Progress.stderr("init"));
                if (tokenizer != null) TokenizerMetadata.add(tokenizer, w);
                GgufConverter.finishMetadata(w, c);
                w.write(out);
            }
            case "hf" -> {
                GgmlType t = switch (type) {
                    case "f32" -> GgmlType.F32;
                    case "f16" -> GgmlType.F16;
                    case "bf16" -> GgmlType.BF16;
                    default -> throw new IllegalArgumentException("--format hf holds f32, f16 or bf16 weights, not " + type);
                };
                RandomWeights rw = new RandomWeights(c, t, seed, threads);
                Files.createDirectories(out);
                SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt");
                for (String n : rw.names()) {
                    var info = rw.info(n);
                    sw.add(n, info.dtype(), info.shape(), rw.tensor(n).segment());
                }
                sw.write(out.resolve("model.safetensors"));
                Path cfg = out.resolve("config.json"), tmp = out.resolve(".config.json.tmp");
                Files.writeString(tmp, c.json().toPrettyString());
                Files.move(tmp, cfg, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                if (tokenizer != null)
                    for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"})
                        if (Files.exists(tokenizer.resolve(f))) Files.copy(tokenizer.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            default -> throw new IllegalArgumentException("--format must be gguf or hf");
        }
        System.err.println("wrote " + out);
        return 0;
    }
}
