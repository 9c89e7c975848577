package jllm.formats.llama2c;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.F32Tensor;
import jllm.tensor.Tensor;

/**
 * A llama2.c {@code run.c} checkpoint (7 int32 header: dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size (negative = separate classifier), seq_len; then fp32 weights), presented
 * under Hugging Face Llama tensor names so the shared decoder runs it unchanged.
 *
 * <p>llama2.c rotates adjacent pairs; Hugging Face rotates halves. Permuting the rows of wq and wk
 * within each head (as HF's own conversion script does) makes the two layouts compute the same
 * thing exactly, so the model runs as a plain {@code llama}.
 */
public final class Llama2cCheckpoint implements TensorStore {
    private final Path path;
    private final int dim, hidden, layers, heads, kvHeads, vocab, seqLen;
    private final boolean shared;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    private Llama2cCheckpoint(Path path, MemorySegment f) {
        this.path = path;
        ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        if (f.byteSize() < 28) throw bad("file is " + f.byteSize() + " bytes, shorter than the 28-byte header");
        dim = f.get(I, 0);
        hidden = f.get(I, 4);
        layers = f.get(I, 8);
        heads = f.get(I, 12);
        kvHeads = f.get(I, 16);
        int v = f.get(I, 20);
        seqLen = f.get(I, 24);
        shared = v > 0;
        vocab = Math.abs(v);
        check("dim", dim, 1 << 16);
        check("hidden_dim", hidden, 1 << 18);
        check("n_layers", layers, 1 << 10);
        check("n_heads", heads, 1 << 10);
        check("n_kv_heads", kvHeads, heads);
        check("vocab_size", vocab, 1 << 22);
        check("seq_len", seqLen, 1 << 22);
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
            throw bad("dim " + dim + ", n_heads " + heads + ", n_kv_heads " + kvHeads + " do not form whole, even-sized heads");
        int hs = dim / heads, kvDim = kvHeads * hs;
        long floats = (long) vocab * dim + (long) layers * (2L * dim + (long) dim * dim * 2 + 2L * dim * kvDim + 3L * dim * hidden)
                + dim + (long) seqLen * hs + (shared ? 0 : (long) vocab * dim);
        long need = 28 + floats * 4;
        if (f.byteSize() < need) throw bad("file has " + f.byteSize() + " bytes but the header implies " + need + " (truncated?)");
        if (f.byteSize() > need) throw bad("file has " + (f.byteSize() - need) + " bytes more than the header implies (not a llama2.c checkpoint?)");
        long[] off = {28};
        put("model.embed_tokens.weight", f, off, vocab, dim);
        Tensor attNorm = take(f, off, layers, dim), wq = take(f, off, layers, dim, dim), wk = take(f, off, layers, kvDim, dim),
                wv = take(f, off, layers, kvDim, dim), wo = take(f, off, layers, dim, dim), ffnNorm = take(f, off, layers, dim),
                w1 = take(f, off, layers, hidden, dim), w2 = take(f, off, layers, dim, hidden), w3 = take(f, off, layers, hidden, dim);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            tensors.put(p + "input_layernorm.weight", attNorm.rows(l, 1).reshape(dim));
            tensors.put(p + "self_attn.q_proj.weight", halfRotation(wq.rows(l, 1).reshape(dim, dim), heads, hs));
            tensors.put(p + "self_attn.k_proj.weight", halfRotation(wk.rows(l, 1).reshape(kvDim, dim), kvHeads, hs));
            tensors.put(p + "self_attn.v_proj.weight", wv.rows(l, 1).reshape(kvDim, dim));
            tensors.put(p + "self_attn.o_proj.weight", wo.rows(l, 1).reshape(dim, dim));
            tensors.put(p + "post_attention_layernorm.weight", ffnNorm.rows(l, 1).reshape(dim));
            tensors.put(p + "mlp.gate_proj.weight", w1.rows(l, 1).reshape(hidden, dim));
            tensors.put(p + "mlp.down_proj.weight", w2.rows(l, 1).reshape(dim, hidden));
            tensors.put(p + "mlp.up_proj.weight", w3.rows(l, 1).reshape(hidden, dim));
        }
        put("model.norm.weight", f, off, dim);
        off[0] += (long) seqLen * hs * 4; // run.c's precomputed freq_cis_real/imag, unused
        if (!shared) put("lm_head.weight", f, off, vocab, dim);
    }

    public static Llama2cCheckpoint open(Path path) {
        jllm.formats.io.InputFile.requireFile(path, null);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new Llama2cCheckpoint(path, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto()));
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read llama2.c checkpoint: " + e.getMessage(), e);
        }
    }

    /** The equivalent Hugging Face config.json. */
    public String configJson() {
        return """
            {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": %d, "intermediate_size": %d,
             "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "vocab_size": %d,
             "max_position_embeddings": %d, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": %b,
             "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}
            """.formatted(dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared);
    }

    private void check(String what, int v, int max) {
        if (v <= 0 || v > max) throw bad(what + " = " + v + " is not plausible (1.." + max + ")");
    }

    private FormatException bad(String msg) {
        return new FormatException(path + ": invalid llama2.c checkpoint: " + msg);
    }

    private static Tensor take(MemorySegment f, long[] off, long... shape) {
        long bytes = 4;
        for (long d : shape) bytes *= d;
        Tensor t = new F32Tensor(f.asSlice(off[0], bytes), shape);
        off[0] += bytes;
        return t;
    }

    private void put(String name, MemorySegment f, long[] off, long... shape) {
        tensors.put(name, take(f, off, shape));
    }

    /** Reorders each head's rows from interleaved pairs (0,1),(2,3).. to halves (0..hs/2 | hs/2..hs). */
    private static Tensor halfRotation(Tensor w, int nHeads, int hs) {
        int cols = w.dim(1);
        float[] out = new float[nHeads * hs * cols];
        for (int h = 0; h < nHeads; h++)
            for (int i = 0; i < hs / 2; i++)
                for (int half = 0; half < 2; half++)
                    w.read((long) (h * hs + 2 * i + half) * cols, out, (h * hs + half * (hs / 2) + i) * cols, cols);
        return F32Tensor.of(out, (long) nHeads * hs, cols);
    }

    @Override public String source() { return path.toString(); }

    @Override public Set<String> names() { return tensors.keySet(); }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw missing(name);
        return t;
    }

    @Override
    public long[] longs(String name) {
        throw new FormatException(path + ": llama2.c checkpoints hold no integer tensors");
    }
}
