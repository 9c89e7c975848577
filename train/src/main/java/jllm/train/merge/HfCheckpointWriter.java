package jllm.train.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.io.OutputFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.tensor.BF16Tensor;
import jllm.tensor.DType;
import jllm.tensor.Shapes;
import jllm.tensor.Tensor;

/**
 * Writes a model in the Hugging Face layout transformers, PEFT and jllm load: {@code config.json},
 * one {@code model.safetensors} (metadata {@code format: pt}), and the base's tokenizer and generation
 * files copied byte for byte. Each tensor keeps its base dtype (F32, F16, BF16); a quantized base
 * (GGUF) is written as {@code quantizedAs}. Values are rounded to nearest-even; a value the dtype
 * cannot hold (beyond fp16's 65504) is an error, never a silent inf. Tensors are made one at a time
 * while the file is written.
 */
public final class HfCheckpointWriter {
    /** Files beside the weights that travel with a model (copied when the base has them). */
    public static final List<String> COPIED = List.of("generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
            "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfCheckpointWriter() { }

    /**
     * @param tensors    what to write (e.g. {@link MergedTensors}); each tensor's dtype is taken from {@code base.tensors()}
     * @param filesFrom  directory whose tokenizer/generation files are copied (null: none)
     * @return the files copied
     */
    public static List<String> write(Path outDir, boolean overwrite, Collection<Path> inputs, ObjectNode config, TensorStore base, TensorStore tensors,
                                     Path filesFrom, DType quantizedAs, Consumer<String> progress) {
        Path dir = OutputFile.directory(outDir, overwrite, inputs);
        Map<DType, Integer> used = new LinkedHashMap<>();
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        List<String> names = List.copyOf(base.names());
        int[] done = {0};
        for (String name : names) {
            TensorStore.Info info = base.info(name);
            if (!info.dtype().floating) {
                w.add(name, info.dtype(), info.shape(), Shapes.numel(info.shape()) * info.dtype().bytes, () -> base.tensor(name).segment());
                continue;
            }
            DType dt = switch (info.dtype()) {
                case F32, F16, BF16 -> info.dtype();
                default -> quantizedAs;
            };
            used.merge(dt, 1, Integer::sum);
            w.add(name, dt, info.shape(), Shapes.numel(info.shape()) * dt.bytes, () -> {
                Tensor t = tensors.tensor(name);
                progress.accept(String.format(Locale.ROOT, "[%d/%d] %s %s", ++done[0], names.size(), name, dt));
                return t.dtype() == dt ? t.segment() : encode(name, t.toFloatArray(), dt);
            });
        }
        ObjectNode cfg = config.deepCopy();
        DType main = used.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(DType.F32);
        String torch = switch (main) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        };
        if (cfg.has("torch_dtype")) cfg.put("torch_dtype", torch);
        else cfg.put("dtype", torch);
        OutputFile.write(dir.resolve("model.safetensors"), true, inputs, (OutputFile.StreamBody) w::write);
        byte[] cfgBytes;
        try {
            cfgBytes = JSON.writeValueAsBytes(cfg);
        } catch (IOException e) {
            throw new FormatException(outDir + ": cannot serialise config.json: " + e.getMessage(), e);
        }
        OutputFile.write(dir.resolve("config.json"), true, inputs, (OutputFile.StreamBody) o -> o.write(cfgBytes));
        List<String> copied = new java.util.ArrayList<>();
        if (filesFrom != null) {
            for (String f : COPIED) {
                Path src = filesFrom.resolve(f);
                if (!Files.isRegularFile(src)) continue;
                OutputFile.write(dir.resolve(f), true, inputs, (OutputFile.StreamBody) o -> Files.copy(src, o));
                copied.add(f);
            }
        }
        return copied;
    }

    /** fp32 values in {@code dt}'s little-endian bytes, rounded to nearest-even. */
    public static MemorySegment encode(String name, float[] v, DType dt) {
        ValueLayout.OfShort sh = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        switch (dt) {
            case F32 -> {
                MemorySegment s = MemorySegment.ofArray(new byte[v.length * 4]);
                MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v.length);
                return s;
            }
            case F16, BF16 -> {
                MemorySegment s = MemorySegment.ofArray(new byte[v.length * 2]);
                for (int i = 0; i < v.length; i++) {
                    short b = dt == DType.F16 ? Float.floatToFloat16(v[i]) : BF16Tensor.fromFloat(v[i]);
                    float back = dt == DType.F16 ? Float.float16ToFloat(b) : BF16Tensor.toFloat(b);
                    if (Float.isInfinite(back) && Float.isFinite(v[i]))
                        throw new FormatException(name + ": value " + v[i] + " at element " + i + " does not fit in " + dt + "; write the model as f32");
                    s.set(sh, 2L * i, b);
                }
                return s;
            }
            default -> throw new IllegalArgumentException(name + ": cannot write " + dt + " to safetensors");
        }
    }

    /** {@code f32}, {@code f16}, {@code bf16} (what a quantized base is written as). */
    public static DType parseDtype(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "f16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16 or bf16, not '" + s + "'");
        };
    }
}
