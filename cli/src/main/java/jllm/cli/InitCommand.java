package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import jllm.formats.gguf.GgufWriter;
import jllm.formats.io.OutputFile;
import jllm.formats.io.InputFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Config;
import jllm.model.Presets;
import jllm.model.RandomWeights;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.GgmlType;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.export.GgufVocabWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Random weights of a published geometry, written tensor by tensor as they are made (an 8B model is
 * never in memory at once), as GGUF or as a Hugging Face directory.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a model with random weights and a real model's exact shapes (for benchmarks and tests).")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--preset", required = true, description = "${COMPLETION-CANDIDATES}", completionCandidates = BenchCommand.PresetNames.class)
    String preset;

    @Option(names = "--out", required = true, description = "Output: a .gguf file, or a directory for --format hf")
    Path out;

    @Option(names = "--format", defaultValue = "gguf", description = "gguf or hf (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--type", defaultValue = "f16", converter = WeightTypes.Converter.class,
            description = "gguf: " + WeightTypes.LIST + "; hf: f32, f16, bf16 (default ${DEFAULT-VALUE})")
    GgufConverter.FileType type;

    @Option(names = "--tokenizer", description = "Tokenizer directory to embed (tokenizer.json, tokenizer_config.json) so llama.cpp/Ollama can load the file")
    Path tokenizer;

    @Mixin
    PureOption pure;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--overwrite", description = "Replace the output file (gguf) or write into a non-empty directory (hf)")
    boolean overwrite;

    @Override
    public Integer call() {
        Config c = Presets.config(preset);
        int threads = Runtime.getRuntime().availableProcessors();
        List<Path> inputs = tokenizerInputs();
        switch (format) {
            case "gguf" -> {
                OutputFile.check(out, overwrite, inputs);
                RandomWeights rw = new RandomWeights(c, GgufConverter.matrixTypes(c, type, pure.pure), WeightTypes.name(type), seed, threads);
                GgufWriter w = new GgufWriter();
                GgufConverter.addModel(w, c, rw, type, pure.pure, preset + "-random", Progress.stderr("init"));
                // The preset's vocabulary size, as convert takes it from config.json: a tokenizer with
                // more tokens than the embedding has rows is refused, fewer are padded.
                if (tokenizer != null) {
                    checkVocabulary(Tokenizer.load(tokenizer), c);
                    GgufVocabWriter.write(GgufVocabWriter.read(tokenizer, c.json()), w);
                }
                GgufConverter.finishMetadata(w, c);
                w.write(out, overwrite, inputs);
            }
            case "hf" -> {
                GgmlType t = switch (type) {
                    case F32 -> GgmlType.F32;
                    case F16 -> GgmlType.F16;
                    case BF16 -> GgmlType.BF16;
                    default -> throw new IllegalArgumentException("--format hf holds f32, f16 or bf16 weights, not " + WeightTypes.name(type));
                };
                if (tokenizer != null) checkVocabulary(Tokenizer.load(tokenizer), c);
                boolean fresh = !Files.exists(out);
                Path dir = OutputFile.directory(out, overwrite, inputs);
                try {
                    writeHf(dir, c, t, threads, inputs);
                } catch (RuntimeException e) {
                    if (fresh) removeCreated(dir);
                    throw e;
                }
            }
            default -> throw new IllegalArgumentException("--format must be gguf or hf, got '" + format + "'");
        }
        Progress.done();
        System.err.println("wrote " + out);
        return 0;
    }

    /** A Hugging Face directory: model.safetensors (written tensor by tensor), config.json, the tokenizer files. */
    private void writeHf(Path dir, Config c, GgmlType t, int threads, List<Path> inputs) {
        RandomWeights rw = new RandomWeights(c, t, seed, threads);
        SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt");
        var progress = Progress.stderr("init");
        int total = rw.names().size();
        int[] done = {0};
        for (String n : rw.names()) {
            var info = rw.info(n);
            long bytes = info.dtype().bytes * jllm.tensor.Shapes.numel(info.shape());
            sw.add(n, info.dtype(), info.shape(), bytes, arena -> {
                progress.accept("[" + ++done[0] + "/" + total + "] " + n);
                return rw.tensor(n, arena).segment();
            });
        }
        sw.write(dir.resolve("model.safetensors"), overwrite, inputs);
        OutputFile.writeString(dir.resolve("config.json"), overwrite, c.json().toPrettyString());
        if (tokenizer != null)
            for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"})
                if (Files.exists(tokenizer.resolve(f))) {
                    byte[] b = InputFile.bytes(tokenizer.resolve(f), "--tokenizer");
                    OutputFile.write(dir.resolve(f), overwrite, inputs, (OutputFile.StreamBody) o -> o.write(b));
                }
    }

    /** A directory this run created holds only what it wrote: a failed run leaves nothing half-made behind. */
    private static void removeCreated(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (java.io.IOException ignored) {
            // the error being reported matters more than this cleanup
        }
    }

    /** The tokenizer files init reads, so that the output is never written over one of them. */
    private List<Path> tokenizerInputs() {
        List<Path> in = new ArrayList<>();
        if (tokenizer == null) return in;
        if (!Files.isDirectory(tokenizer))
            throw new IllegalArgumentException("--tokenizer " + tokenizer + (Files.exists(tokenizer)
                    ? ": not a directory; init embeds a Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json)" : ": no such directory"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "config.json", "generation_config.json", "chat_template.jinja"))
            if (Files.exists(tokenizer.resolve(f))) in.add(tokenizer.resolve(f));
        in.add(tokenizer);
        return in;
    }

    /** A tokenizer whose ids do not all have an embedding row would make the model unusable. */
    static void checkVocabulary(Tokenizer tok, Config c) {
        int vocab = c.size("vocab_size", Integer.MAX_VALUE);
        if (tok.vocabSize() > vocab)
            throw new IllegalArgumentException("--tokenizer " + tok.source() + " has " + tok.vocabSize() + " tokens but the preset's vocabulary has "
                    + vocab + " (vocab_size of " + c.source() + ")");
    }
}
