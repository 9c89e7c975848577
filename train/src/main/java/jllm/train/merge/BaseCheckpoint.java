package jllm.train.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufFile;
import jllm.formats.llama2c.Llama2cCheckpoint;
import jllm.formats.safetensors.ShardedSafetensors;
import jllm.model.gguf.GgufHfView;

/**
 * A base model as a Hugging Face checkpoint: its config.json and its tensors under transformers'
 * names and conventions, whatever file it came from (an HF directory as it is; a GGUF file through
 * {@link GgufHfView}; a llama2.c checkpoint, already HF-named). What merge and export read.
 *
 * @param dir  the HF directory whose tokenizer and generation files are copied (null for a single file)
 * @param gguf the GGUF file (its tokenizer metadata goes into an exported GGUF), or null
 */
public record BaseCheckpoint(Path path, ObjectNode config, TensorStore tensors, Path dir, GgufFile gguf) implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static BaseCheckpoint open(Path path) {
        if (!Files.exists(path)) throw new FormatException(path + ": no such file or directory");
        if (Files.isDirectory(path)) {
            Path cfg = path.resolve("config.json");
            if (!Files.isRegularFile(cfg)) throw new FormatException(path + ": no config.json in the model directory");
            ObjectNode c;
            try {
                var n = JSON.readTree(cfg.toFile());
                if (!(n instanceof ObjectNode o)) throw new FormatException(cfg + ": not a JSON object");
                c = o;
            } catch (IOException e) {
                throw new FormatException(cfg + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
            }
            return new BaseCheckpoint(path, c, ShardedSafetensors.openDirectory(path), path, null);
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".gguf")) {
            GgufHfView v = GgufHfView.open(path);
            return new BaseCheckpoint(path, v.configJson(), v, null, v.file());
        }
        if (name.endsWith(".bin")) {
            Llama2cCheckpoint ck = Llama2cCheckpoint.open(path);
            try {
                return new BaseCheckpoint(path, (ObjectNode) JSON.readTree(ck.configJson()), ck, null, null);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new FormatException(path + ": not a model (expected a directory with config.json and safetensors, a .gguf, or a llama2.c .bin)");
    }

    /**
     * Per-frequency RoPE factors a GGUF file stores as tensors (Llama 3.1 scaling as {@code rope_freqs},
     * longrope lists): config.json derives them from parameters the file no longer has, so the
     * checkpoint cannot be written in the Hugging Face layout without changing the model.
     */
    public java.util.Optional<String> ropeFactorTensor() {
        if (gguf == null) return java.util.Optional.empty();
        for (String n : java.util.List.of("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"))
            if (gguf.tensor(n) != null) return java.util.Optional.of(n);
        return java.util.Optional.empty();
    }

    /** Refuses a GGUF base that {@link #ropeFactorTensor() config.json cannot describe}. */
    public void requireHfExpressible() {
        ropeFactorTensor().ifPresent(t -> {
            throw new FormatException(path + ": its RoPE scaling is stored as the tensor " + t + ", which config.json cannot express; "
                    + "merge into the original Hugging Face checkpoint instead (or export to GGUF, which keeps the tensor)");
        });
    }

    /** The model's name for metadata: the directory or file name without extension. */
    public String name() {
        String n = path.toAbsolutePath().normalize().getFileName().toString();
        return n.endsWith(".gguf") || n.endsWith(".bin") ? n.substring(0, n.lastIndexOf('.')) : n;
    }

    @Override
    public void close() { tensors.close(); }
}
