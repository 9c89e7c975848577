package jllm.model.gguf;

import java.util.ArrayList;
import java.util.List;
import jllm.model.Spec;

/**
 * The correspondence between Hugging Face tensor names and llama.cpp's GGUF names for a model,
 * derived from the roles in its {@link Spec} (so each architecture's naming is written once, in its
 * Architecture class). Used in both directions: loading GGUF files and converting to GGUF.
 */
public final class TensorMap {
    /** One HF tensor and where it lives in GGUF; experts are rows {@code [expert * rows, ...)} of a stacked tensor. */
    public record Entry(String hf, String gguf, int expert, int experts, Role role) {}

    public enum Role { PLAIN, Q, K, EXPERT }

    private TensorMap() {}

    /** Whether llama.cpp's graph for this GGUF architecture rotates adjacent pairs (so Q/K rows are permuted in the file). */
    public static boolean permutesQk(String ggufArch) {
        return ggufArch.equals("llama") || ggufArch.equals("granite");
    }

    public static List<Entry> entries(Spec s) {
        Spec.Names n = s.names;
        List<Entry> out = new ArrayList<>();
        out.add(new Entry(n.embed, "token_embd.weight", -1, 0, Role.PLAIN));
        out.add(new Entry(n.finalNorm + ".weight", "output_norm.weight", -1, 0, Role.PLAIN));
        if (s.layerNorm) out.add(new Entry(n.finalNorm + ".bias", "output_norm.bias", -1, 0, Role.PLAIN));
        out.add(new Entry(n.lmHead, "output.weight", -1, 0, Role.PLAIN));
        boolean phi3 = s.modelType.equals("phi3");
        for (int i = 0; i < s.layers; i++) {
            String p = String.format(n.layer, i), b = "blk." + i + ".";
            norm(out, s, p, n.attnNorm, b + "attn_norm");
            norm(out, s, p, n.postAttnNorm, b + "post_attention_norm");
            norm(out, s, p, n.ffnNorm, b + "ffn_norm");
            norm(out, s, p, n.postFfnNorm, b + "post_ffw_norm");
            if (phi3) {
                out.add(new Entry(p + "self_attn.qkv_proj.weight", b + "attn_qkv.weight", -1, 0, Role.PLAIN));
            } else {
                linear(out, p + n.q, b + "attn_q", s.qkvBias, Role.Q);
                linear(out, p + n.k, b + "attn_k", s.qkvBias, Role.K);
                linear(out, p + n.v, b + "attn_v", s.qkvBias, Role.PLAIN);
            }
            linear(out, p + n.o, b + "attn_output", s.oBias, Role.PLAIN);
            if (s.qkNorm == Spec.QkNorm.PER_HEAD || s.qkNorm == Spec.QkNorm.WHOLE) {
                out.add(new Entry(p + n.qNorm + ".weight", b + "attn_q_norm.weight", -1, 0, Role.PLAIN));
                out.add(new Entry(p + n.kNorm + ".weight", b + "attn_k_norm.weight", -1, 0, Role.PLAIN));
            }
            switch (s.layer[i].ffn()) {
                case Spec.Dense d -> {
                    if (phi3) out.add(new Entry(p + "mlp.gate_up_proj.weight", b + "ffn_up.weight", -1, 0, Role.PLAIN));
                    else {
                        if (s.gated) linear(out, p + n.gate, b + "ffn_gate", s.mlpBias, Role.PLAIN);
                        linear(out, p + n.up, b + "ffn_up", s.mlpBias, Role.PLAIN);
                    }
                    linear(out, p + n.down, b + "ffn_down", s.mlpBias, Role.PLAIN);
                }
                case Spec.Moe m -> {
                    out.add(new Entry(p + n.router + ".weight", b + "ffn_gate_inp.weight", -1, 0, Role.PLAIN));
                    for (int e = 0; e < m.experts(); e++) {
                        String ep = p + String.format(n.expert, e);
                        out.add(new Entry(ep + n.expertGate + ".weight", b + "ffn_gate_exps.weight", e, m.experts(), Role.EXPERT));
                        out.add(new Entry(ep + n.expertUp + ".weight", b + "ffn_up_exps.weight", e, m.experts(), Role.EXPERT));
                        out.add(new Entry(ep + n.expertDown + ".weight", b + "ffn_down_exps.weight", e, m.experts(), Role.EXPERT));
                    }
                    if (m.sharedIntermediate() > 0) {
                        out.add(new Entry(p + n.shared + "gate_proj.weight", b + "ffn_gate_shexp.weight", -1, 0, Role.PLAIN));
                        out.add(new Entry(p + n.shared + "up_proj.weight", b + "ffn_up_shexp.weight", -1, 0, Role.PLAIN));
                        out.add(new Entry(p + n.shared + "down_proj.weight", b + "ffn_down_shexp.weight", -1, 0, Role.PLAIN));
                    }
                }
            }
        }
        return out;
    }

    private static void norm(List<Entry> out, Spec s, String p, String hf, String gguf) {
        if (hf == null) return;
        out.add(new Entry(p + hf + ".weight", gguf + ".weight", -1, 0, Role.PLAIN));
        if (s.layerNorm) out.add(new Entry(p + hf + ".bias", gguf + ".bias", -1, 0, Role.PLAIN));
    }

    private static void linear(List<Entry> out, String hf, String gguf, boolean bias, Role role) {
        out.add(new Entry(hf + ".weight", gguf + ".weight", -1, 0, role));
        if (bias) out.add(new Entry(hf + ".bias", gguf + ".bias", -1, 0, role));
    }
}
