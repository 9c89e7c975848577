package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.model.gguf.GgufConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Hugging Face checkpoint to GGUF (llama.cpp / Ollama), tokenizer and chat template included.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Hugging Face model directory (config.json, safetensors, tokenizer files)")
    Path hfDir;

    @Option(names = "--to", required = true, description = "Output .gguf file")
    Path out;

    @Option(names = "--type", defaultValue = "f16", converter = WeightTypes.Converter.class,
            description = WeightTypes.LIST + " (default ${DEFAULT-VALUE})")
    GgufConverter.FileType type;

    @Mixin
    PureOption pure;

    @Option(names = "--overwrite", description = "Replace the output file if it exists")
    boolean overwrite;

    @Override
    public Integer call() {
        if (!Files.isDirectory(hfDir))
            throw new IllegalArgumentException(hfDir + (Files.exists(hfDir) ? ": not a directory; convert reads a Hugging Face model directory" : ": no such directory"));
        if (!Files.isRegularFile(hfDir.resolve("config.json")))
            throw new IllegalArgumentException(hfDir + ": no config.json; convert reads a Hugging Face model directory");
        long t0 = System.nanoTime();
        GgufConverter.convert(hfDir, out, type, pure.pure, overwrite, w -> TokenizerMetadata.add(hfDir, w), Progress.stderr("convert"));
        Progress.done();
        System.err.printf("wrote %s (%s) in %.1f s%n", out, WeightTypes.name(type), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
