package jllm.train.export;

import java.nio.file.Path;
import java.util.function.Consumer;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorInfo;
import jllm.formats.gguf.GgufTensorStore;
import jllm.formats.gguf.GgufValueType;
import jllm.formats.gguf.GgufWriter;
import jllm.model.Config;
import jllm.model.gguf.GgufConverter;
import jllm.tokenizer.export.GgufVocabWriter;
import jllm.train.merge.BaseCheckpoint;

/**
 * {@code jllm export}: a base model (with an adapter merged in, or not) written as one GGUF file for
 * llama.cpp and Ollama through {@link GgufConverter}, so names, metadata, Q/K pair order, Gemma's
 * {@code 1 + w} norms and quantization are those of {@code jllm convert}. The tokenizer comes from
 * the base: an HF directory's tokenizer files, or a GGUF base's own {@code tokenizer.*} metadata,
 * copied as it is (with its RoPE factor tensors, which config.json cannot describe).
 */
public final class GgufExport {
    private GgufExport() { }

    public static void write(BaseCheckpoint base, TensorStore tensors, Path out, GgufConverter.FileType type, Consumer<String> progress) {
        write(base, tensors, out, type, false, progress);
    }

    /** As above; {@code pure}: every matrix in {@code type} (llama-quantize's {@code --pure}). */
    public static void write(BaseCheckpoint base, TensorStore tensors, Path out, GgufConverter.FileType type, boolean pure, Consumer<String> progress) {
        Config c = new Config(base.config(), base.path().toString());
        GgufWriter w = new GgufWriter();
        GgufConverter.addModel(w, c, tensors, type, pure, base.name(), progress);
        if (base.dir() != null) GgufVocabWriter.addTo(base.dir(), w);
        GgufFile g = base.gguf();
        if (g != null) {
            for (String key : g.keys()) {
                if (!key.startsWith("tokenizer.") || w.has(key)) continue;
                GgufValueType t = g.type(key);
                w.raw(key, t, t == GgufValueType.ARRAY ? g.arrayType(key) : null, g.get(key));
            }
            for (GgufTensorInfo ti : g.tensors())
                if (ti.name().startsWith("rope_") && !w.hasTensor(ti.name()))
                    w.tensor(ti.name(), ti.ggmlType(), GgufTensorStore.shape(ti), ti.data());
        }
        GgufConverter.finishMetadata(w, c);
        w.write(out);
    }
}
