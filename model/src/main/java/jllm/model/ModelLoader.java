package jllm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.llama2c.Llama2cCheckpoint;
import jllm.formats.safetensors.ShardedSafetensors;
import jllm.tensor.Backend;

/** Opens a model from a path: a Hugging Face directory (config.json + safetensors), a GGUF file or a llama2.c {@code .bin}. */
public final class ModelLoader {
    private ModelLoader() {}

    public static Model load(Path path, Backend be, Consumer<String> warn) {
        if (!Files.exists(path)) throw new FormatException(path + ": no such file or directory");
        if (Files.isDirectory(path)) {
            Path cfg = path.resolve("config.json");
            if (!Files.exists(cfg)) throw new FormatException(path + ": no config.json in the model directory");
            Config c = Config.read(cfg);
            TensorStore st = ShardedSafetensors.openDirectory(path);
            return build(c, st, be, warn);
        }
        if (!Files.isRegularFile(path)) throw new FormatException(path + ": not a model file (a device, FIFO or socket)");
        String name = path.getFileName().toString();
        // GGUF by its magic, not its name: Ollama stores models as sha256-... blobs.
        if (jllm.formats.gguf.GgufFile.isGguf(path) || name.endsWith(".gguf")) return jllm.model.gguf.GgufModelLoader.load(path, be, warn);
        if (name.endsWith(".bin")) {
            Llama2cCheckpoint ck = Llama2cCheckpoint.open(path);
            return build(Config.of(ck.configJson()), ck, be, warn);
        }
        if (name.equals("config.json")) return load(path.toAbsolutePath().getParent(), be, warn);
        throw new FormatException(path + ": not a model (expected a directory with config.json and safetensors, a .gguf, or a llama2.c .bin)");
    }

    public static Model build(Config c, TensorStore st, Backend be, Consumer<String> warn) {
        return build(c, st, be, warn, s -> { }, java.util.Set.of());
    }

    /**
     * Builds a model; {@code adjust} may change the spec the architecture derived (a file format's
     * own conventions), {@code consumed} names tensors read elsewhere (not "unexpected").
     */
    public static Model build(Config c, TensorStore st, Backend be, Consumer<String> warn, Consumer<Spec> adjust, java.util.Set<String> consumed) {
        Architecture arch = Architectures.forConfig(c);
        Spec spec = arch.spec(c);
        adjust.accept(spec);
        Weights w = Weights.load(st, spec, arch, be);
        var extra = Weights.unexpected(st, w);
        extra.removeAll(consumed);
        if (!extra.isEmpty()) throw new FormatException(st.source() + ": unexpected tensors for " + spec.modelType + ": " + extra);
        WeightCheck.warnNonFinite(st, warn);
        return new Model(spec, w, be);
    }
}
