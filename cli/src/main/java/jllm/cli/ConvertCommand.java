package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.model.gguf.GgufConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Hugging Face checkpoint to GGUF (llama.cpp / Ollama), tokenizer and chat template included.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Hugging Face model directory (config.json, safetensors, tokenizer files)")
    Path hfDir;

    @Option(names = "--to", required = true, description = "Output .gguf file")
    Path out;

    @Option(names = "--type", defaultValue = "f16", description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k (default ${DEFAULT-VALUE})")
    String type;

    @Override
    public Integer call() {
        GgufConverter.FileType ft = GgufConverter.FileType.parse(type);
        long t0 = System.nanoTime();
        GgufConverter.convert(hfDir, out, ft, w -> TokenizerMetadata.add(hfDir, w), Progress.stderr("convert"));
        System.err.printf("wrote %s (%s) in %.1f s%n", out, ft, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
