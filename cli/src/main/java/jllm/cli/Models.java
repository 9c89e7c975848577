package jllm.cli;

import java.nio.file.Path;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;

/** Shared model/tokenizer opening for the commands. */
final class Models {
    private Models() {}

    static Model load(Path path, Integer threads) {
        return ModelLoader.load(path, new CpuBackend(Threads.resolve(threads)), System.err::println);
    }

    static jllm.generate.ModelBundle bundle(Path model, Path tokenizer, Path template, Integer threads) {
        return jllm.generate.ModelBundle.open(model, tokenizer, template, new CpuBackend(Threads.resolve(threads)), System.err::println);
    }
}
