package jllm.cli;

import java.nio.file.Path;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;

/** Shared model/tokenizer opening for the commands. */
final class Models {
    private Models() {}

    /** What {@code --model default} (and a command without --model) means. */
    static final String DEFAULT = "default";

    /**
     * The model path a command was given; {@code default} or none is the model that ships with jllm,
     * {@code models/default} in the checkout this jllm was built from (override with the
     * {@code JLLM_DEFAULT_MODEL} environment variable or {@code -Djllm.defaultModel}). A directory that
     * happens to be called "default" is {@code ./default}.
     */
    static Path resolve(Path model) {
        if (model != null && !model.toString().equals(DEFAULT)) return model;
        Path d = defaultModel();
        if (!java.nio.file.Files.isDirectory(d))
            throw new IllegalArgumentException("the default model is not at " + d + " (models/default in the jllm checkout); pass --model PATH");
        return d;
    }

    static Path defaultModel() {
        String p = System.getProperty("jllm.defaultModel", System.getenv("JLLM_DEFAULT_MODEL"));
        if (p != null && !p.isBlank()) return Path.of(p);
        return checkoutRoot().resolve("models").resolve(DEFAULT);
    }

    /** The checkout root: the CLI runs from cli/target/jllm-cli.jar or cli/target/classes. */
    static Path checkoutRoot() {
        try {
            Path code = Path.of(Models.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            Path target = code.getParent();
            if (target != null && target.getFileName() != null && target.getFileName().toString().equals("target")
                    && target.getParent() != null && target.getParent().getParent() != null)
                return target.getParent().getParent();
        } catch (java.net.URISyntaxException | SecurityException | NullPointerException e) {
            // fall through: relative to the working directory
        }
        return Path.of("").toAbsolutePath();
    }

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
            + "by default decode, and prefill of Q4_0, Q4_1 and Q4_K weights, quantize them to 8 bits per 32 values, as llama.cpp does";
}
