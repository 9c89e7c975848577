package jllm.model.gguf;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorInfo;
import jllm.formats.gguf.GgufTensorStore;
import jllm.formats.gguf.GgufValueType;
import jllm.formats.gguf.GgufWriter;
import jllm.formats.io.OutputFile;
import jllm.tensor.GgmlType;
import jllm.tensor.Tensor;

/** {@code jllm quantize}: rewrites a GGUF file's matrices in another type, metadata copied verbatim. */
public final class GgufRequantizer {
    private GgufRequantizer() {}

    /** Rewrites {@code in} as {@code out}; never over the input (compared by real path), nor over an existing file without {@code overwrite}. */
    public static void requantize(Path in, Path out, GgufConverter.FileType type, boolean overwrite, Consumer<String> progress) {
        requantize(in, out, type, false, overwrite, progress);
    }

    /** As above; {@code pure}: every matrix in {@code type} (llama-quantize's {@code --pure}, {@link GgufConverter#pick}). */
    public static void requantize(Path in, Path out, GgufConverter.FileType type, boolean pure, boolean overwrite, Consumer<String> progress) {
        OutputFile.check(out, overwrite, List.of(in));
        try (GgufFile f = GgufFile.open(in)) {
            GgufTensorStore st = new GgufTensorStore(f);
            GgufWriter w = new GgufWriter();
            for (String key : f.keys()) {
                if (key.equals("general.file_type") || key.equals("general.alignment")) continue;
                GgufValueType t = f.type(key);
                w.raw(key, t, t == GgufValueType.ARRAY ? f.arrayType(key) : null, f.get(key));
            }
            w.u32("general.file_type", type.id);
            w.alignment(32);
            String arch = f.getString("general.architecture", "");
            int layers = (int) f.getLong(arch + ".block_count", 0);
            int experts = (int) f.getLong(arch + ".expert_count", 0);
            int n = f.tensors().size(), i = 0;
            boolean tied = f.tensors().stream().noneMatch(ti -> ti.name().equals("output.weight"));
            for (GgufTensorInfo ti : f.tensors()) {
                long[] shape = GgufTensorStore.shape(ti);
                int idx = ++i;
                GgmlType src = st.type(ti.name());
                boolean keep = shape.length == 1 || !src.supported || ti.name().startsWith("rope_") || GgufConverter.router(ti.name());
                if (keep) {
                    w.tensor(ti.name(), ti.ggmlType(), shape, ti.data());
                    continue;
                }
                long[] rowShape = {shape.length == 3 ? shape[1] : shape[0], shape[shape.length - 1]};
                GgmlType gt = GgufConverter.pick(type, ti.name(), rowShape, layers, tied, experts, pure);
                long bytes = 1;
                for (long d : shape) bytes *= d;
                bytes = bytes / gt.blockSize * gt.blockBytes;
                w.tensor(ti.name(), gt.id, shape, bytes, arena -> {
                    Tensor t = st.tensor(ti.name());
                    float[] v = t.toFloatArray();
                    progress.accept(String.format("[%d/%d] %s %s -> %s", idx, n, ti.name(), src, gt));
                    return GgufConverter.encode(gt, v, shape, arena);
                });
            }
            w.write(out, overwrite, List.of(in));
        }
    }
}
