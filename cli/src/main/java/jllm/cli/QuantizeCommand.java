package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import jllm.formats.io.InputFile;
import jllm.model.gguf.GgufConverter;
import jllm.model.gguf.GgufRequantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "quantize", mixinStandardHelpOptions = true, description = "Rewrite a GGUF file's weight matrices in another type.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Input .gguf")
    Path in;

    @Parameters(index = "1", description = "Output .gguf")
    Path out;

    @Parameters(index = "2", converter = WeightTypes.Converter.class, description = WeightTypes.LIST)
    GgufConverter.FileType type;

    @Mixin
    PureOption pure;

    @Option(names = "--overwrite", description = "Replace the output file if it exists")
    boolean overwrite;

    @Override
    public Integer call() {
        InputFile.requireFile(in, "input");
        GgufRequantizer.requantize(in, out, type, pure.pure, overwrite, Progress.stderr("quantize"));
        Progress.done();
        System.err.println("wrote " + out);
        return 0;
    }
}
