package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.model.gguf.GgufConverter;
import jllm.model.gguf.GgufRequantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "quantize", mixinStandardHelpOptions = true, description = "Rewrite a GGUF file's weight matrices in another type.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Input .gguf")
    Path in;

    @Parameters(index = "1", description = "Output .gguf")
    Path out;

    @Parameters(index = "2", description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k")
    String type;

    @Override
    public Integer call() {
        GgufRequantizer.requantize(in, out, GgufConverter.FileType.parse(type), Progress.stderr("quantize"));
        System.err.println("wrote " + out);
        return 0;
    }
}
