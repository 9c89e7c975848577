package jllm.model.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jllm.model.gguf.GgufConverter.FileType;
import jllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;

/**
 * Which type each tensor gets, against what {@code llama-quantize} (build 9749) wrote for
 * Llama-3.2-1B (16 layers, tied embeddings): Q4_0 and Q4_K_M files with {@code token_embd} at Q6_K,
 * Q4_K_M's attn_v and ffn_down at Q6_K in layers 0, 1, 4, 7, 10, 13, 14, 15; and llama.cpp's rules
 * in {@code llama_tensor_get_type} (src/llama-quant.cpp) where that file does not show them: an
 * untied model's {@code output.weight} at Q6_K and its {@code token_embd} at the file's type, Q8_0
 * files unchanged, and {@code tensor_type_fallback} for rows that a type's blocks do not divide.
 */
class GgufRecipeTest {
    private static final long[] EMBD = {128256, 2048}, SQUARE = {2048, 2048}, DOWN = {2048, 8192};

    @Test
    void theLmHeadIsQ6KInEveryQuantizedFileButQ8_0() {
        for (FileType ft : new FileType[] {FileType.Q4_0, FileType.Q4_1, FileType.Q5_0, FileType.Q5_1, FileType.Q4_K_M, FileType.Q5_K_M, FileType.Q6_K}) {
            assertEquals(GgmlType.Q6_K, GgufConverter.pick(ft, "token_embd.weight", EMBD, 16, true, 0, false), ft + " tied");
            assertEquals(GgmlType.Q6_K, GgufConverter.pick(ft, "output.weight", EMBD, 16, false, 0, false), ft + " output");
            assertEquals(ft.base, GgufConverter.pick(ft, "token_embd.weight", EMBD, 16, false, 0, false), ft + " untied token_embd");
            assertEquals(ft.base, GgufConverter.pick(ft, "blk.3.attn_q.weight", SQUARE, 16, true, 0, false), ft + " attn_q");
        }
        for (FileType ft : new FileType[] {FileType.Q8_0, FileType.F16, FileType.BF16, FileType.F32})
            assertEquals(ft.base, GgufConverter.pick(ft, "token_embd.weight", EMBD, 16, true, 0, false), ft + " keeps its type");
        // rows of 96 values: no 256-value blocks, llama.cpp's tensor_type_fallback; F16 where 32 does not divide them
        assertEquals(GgmlType.Q8_0, GgufConverter.pick(FileType.Q4_0, "token_embd.weight", new long[] {1000, 96}, 2, true, 0, false));
        assertEquals(GgmlType.Q8_0, GgufConverter.pick(FileType.Q4_K_M, "output.weight", new long[] {1000, 96}, 2, false, 0, false));
        assertEquals(GgmlType.Q5_0, GgufConverter.pick(FileType.Q4_K_M, "blk.0.attn_q.weight", new long[] {96, 96}, 2, true, 0, false));
        assertEquals(GgmlType.Q5_1, GgufConverter.pick(FileType.Q5_K_M, "blk.0.attn_q.weight", new long[] {96, 96}, 2, true, 0, false));
        assertEquals(GgmlType.Q8_0, GgufConverter.pick(FileType.Q4_K_M, "blk.1.ffn_down.weight", new long[] {96, 96}, 2, true, 0, false));
        assertEquals(GgmlType.F16, GgufConverter.pick(FileType.Q4_0, "blk.0.attn_q.weight", new long[] {100, 100}, 2, true, 0, false));
        assertEquals(GgmlType.F32, GgufConverter.pick(FileType.Q4_0, "output_norm.weight", new long[] {2048}, 16, true, 0, false));
    }

    @Test
    void pureKeepsEveryMatrixAtTheFileType() {
        assertEquals(GgmlType.Q4_0, GgufConverter.pick(FileType.Q4_0, "token_embd.weight", EMBD, 16, true, 0, true));
        assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "output.weight", EMBD, 16, false, 0, true));
        assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "blk.0.ffn_down.weight", DOWN, 16, true, 0, true));
        assertEquals(GgmlType.Q4_0, GgufConverter.pick(FileType.Q4_0, "blk.0.attn_v.weight", new long[] {512, 2048}, 16, true, 8, true));
        assertEquals(GgmlType.Q5_0, GgufConverter.pick(FileType.Q4_K_M, "blk.0.attn_q.weight", new long[] {96, 96}, 2, true, 0, true), "fallback still");
        assertEquals(GgmlType.F32, GgufConverter.pick(FileType.Q4_0, "blk.0.ffn_gate_inp.weight", new long[] {8, 4096}, 2, true, 8, true), "routers still");
    }

    @Test
    void eightExpertsAndFusedQkvFollowLlamaQuantize() {
        long[] v = {1024, 4096};
        for (FileType ft : new FileType[] {FileType.Q4_0, FileType.Q4_K_M, FileType.Q6_K}) {
            assertEquals(GgmlType.Q8_0, GgufConverter.pick(ft, "blk.5.attn_v.weight", v, 32, false, 8, false), ft + " attn_v, 8 experts");
            assertEquals(GgmlType.Q8_0, GgufConverter.pick(ft, "blk.5.attn_k.weight", v, 32, false, 8, false), ft + " attn_k, 8 experts");
            assertEquals(ft.base, GgufConverter.pick(ft, "blk.5.attn_k.weight", v, 32, false, 0, false), ft + " attn_k, dense");
        }
        assertEquals(GgmlType.Q5_K, GgufConverter.pick(FileType.Q4_K_M, "blk.5.attn_output.weight", SQUARE, 32, false, 8, false));
        assertEquals(GgmlType.Q4_0, GgufConverter.pick(FileType.Q4_0, "blk.5.attn_output.weight", SQUARE, 32, false, 8, false));
        assertEquals(GgmlType.Q6_K, GgufConverter.pick(FileType.Q4_K_M, "blk.6.ffn_down_exps.weight", DOWN, 32, false, 8, false));  // (6 - 32 / 8) % 3 == 2
        assertEquals(GgmlType.F32, GgufConverter.pick(FileType.Q4_K_M, "blk.6.ffn_gate_inp.weight", new long[] {8, 4096}, 32, false, 8, false), "router");
        // Phi-3's fused attn_qkv is an attn_v to llama.cpp's recipe
        assertEquals(GgmlType.Q6_K, GgufConverter.pick(FileType.Q4_K_M, "blk.0.attn_qkv.weight", new long[] {9216, 3072}, 32, false, 0, false));
        assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "blk.5.attn_qkv.weight", new long[] {9216, 3072}, 32, false, 0, false));
        // a file's odd names do not throw
        assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "blk.x.ffn_up.weight", DOWN, 32, false, 0, false));
        assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "blk.", DOWN, 32, false, 0, false));
    }

    @Test
    void q4KMRaisesAttnVAndFfnDownOfTheLayersLlamaQuantizeRaises() {
        java.util.Set<Integer> more = java.util.Set.of(0, 1, 4, 7, 10, 13, 14, 15);
        for (int l = 0; l < 16; l++) {
            GgmlType want = more.contains(l) ? GgmlType.Q6_K : GgmlType.Q4_K;
            assertEquals(want, GgufConverter.pick(FileType.Q4_K_M, "blk." + l + ".attn_v.weight", new long[] {512, 2048}, 16, true, 0, false), "attn_v " + l);
            assertEquals(want, GgufConverter.pick(FileType.Q4_K_M, "blk." + l + ".ffn_down.weight", DOWN, 16, true, 0, false), "ffn_down " + l);
            assertEquals(GgmlType.Q4_K, GgufConverter.pick(FileType.Q4_K_M, "blk." + l + ".ffn_up.weight", new long[] {8192, 2048}, 16, true, 0, false), "ffn_up " + l);
        }
    }
}
