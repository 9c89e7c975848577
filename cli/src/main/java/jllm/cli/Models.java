package jllm.cli;

import java.nio.file.Path;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;

/** Shared model/tokenizer opening for the commands. */
final class Models {
    private Models() {}

    static Model load(Path path, Integer threads) {
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        return ModelLoader.load(path, new CpuBackend(n), System.err::println);
    }

    static int[] encodePrompt(Path model, String text) {
        throw new IllegalArgumentException("text prompts need the model's tokenizer, which this build cannot load yet; use --prompt-ids");
    }

    static String decode(Path model, int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(sb.isEmpty() ? "" : " ").append(id);
        return sb.toString();
    }
}
