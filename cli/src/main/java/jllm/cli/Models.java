package jllm.cli;

import java.nio.file.Path;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;

/** Shared model/tokenizer opening for the commands. */
final class Models {
    private Models() {}

    /** {@code exact}: fp32 activations for quantized weights too (see {@link CpuBackend#CpuBackend(int, boolean)}). */
    static Model load(Path path, Integer threads, boolean exact) {
        return ModelLoader.load(path, backend(threads, exact), System.err::println);
    }

    static jllm.generate.ModelBundle bundle(Path model, Path tokenizer, Path template, Integer threads, boolean exact) {
        return jllm.generate.ModelBundle.open(model, tokenizer, template, backend(threads, exact), System.err::println);
    }

    static CpuBackend backend(Integer threads, boolean exact) { return new CpuBackend(Threads.resolve(threads), exact); }

    /** The text of every --exact option. */
    static final String EXACT = "Keep activations fp32 for quantized weights too (reference comparisons); "
            + "by default decode quantizes them to 8 bits per 32 values, as llama.cpp does";
}
