package jllm.cli;

import picocli.CommandLine.Option;

/** {@code --pure}, shared by convert, quantize, init and export. */
final class PureOption {
    @Option(names = "--pure", description = "Every weight matrix in the given type, as llama-quantize --pure"
            + " (default: llama-quantize's choice per tensor, e.g. the LM head at Q6_K)")
    boolean pure;
}
