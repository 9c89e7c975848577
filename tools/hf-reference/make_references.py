#!/usr/bin/env python3
"""Generate extra Hugging Face transformers reference data for jllm parity tests.

Builds ~24 tiny random-weight variant models (other sizes, head counts, rope scalings, biases,
sliding windows, MoE variants, BF16/F16 checkpoints), saves each with `save_pretrained`, reloads it
in fp32 with eager attention, and writes `reference.safetensors` in the same format as
`../shared/fixtures/hf/*/reference.safetensors` (gradients included):

  input_ids int64 [2,T]; logits f32 [2,T,V]; hidden.0..hidden.L f32 [2,T,H];
  generate.prompt int64 [1,8]; generate.output int64 [1,8+N] (greedy, KV cache, no eos stop);
  loss f32 [1] (labels = input_ids); grad.<name> f32 for every parameter (d loss / d parameter).

Usage: python3 make_references.py --out testdata/hf [--only name1,name2]
Needs torch + transformers 5.17 (+ safetensors, numpy). Runs on CPU in fp32, deterministic seeds.
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
import time
import traceback
import zlib

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, CONFIG_MAPPING

torch.set_default_dtype(torch.float32)

PROMPT_LEN = 8
COMMON = dict(bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False,
              max_position_embeddings=256)
# model types whose norms compute x * (1 + w): their norm weights are drawn around 0
ONE_PLUS_NORM = {"gemma", "gemma2", "gemma3_text", "nemotron"}
# model types that multiply embeddings by sqrt(hidden): draw the table smaller
SCALED_EMBED = {"gemma", "gemma2", "gemma3_text"}


def V(name, model_type, desc, T=32, N=None, dtype="float32", **cfg):
    return dict(name=name, model_type=model_type, desc=desc, T=T, N=N if N is not None else T,
                dtype=dtype, cfg=cfg)


def rope(theta=10000.0, rtype="default", **kw):
    d = dict(rope_theta=theta, rope_type=rtype)
    d.update(kw)
    return d


VARIANTS = [
    # ---------------- llama ----------------
    V("llama_mqa", "llama", "Llama, multi-query attention (kv_heads=1, 8 heads, head_dim 8), hidden 64",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
      num_attention_heads=8, num_key_value_heads=1, rms_norm_eps=1e-5, rope_parameters=rope()),
    V("llama_mha_hd24", "llama", "Llama, MHA (kv=heads=4) with head_dim 24 != hidden/heads (16): q/o are 96-wide",
      T=24, vocab_size=112, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=4, head_dim=24, rms_norm_eps=1e-6, rope_parameters=rope()),
    V("llama_5layers_h32", "llama", "Llama, 5 layers, hidden 32, 4 heads / 2 kv (head_dim 8), T=48",
      T=48, vocab_size=160, hidden_size=32, intermediate_size=80, num_hidden_layers=5,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_parameters=rope(50000.0)),
    V("llama_bias", "llama", "Llama with attention_bias=true (q,k,v,o biases) and mlp_bias=true (gate/up/down biases)",
      T=32, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, attention_bias=True, mlp_bias=True,
      rms_norm_eps=1e-5, rope_parameters=rope()),
    V("llama_rope_linear", "llama", "Llama, rope_type linear (factor 2.5)",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
      rope_parameters=rope(10000.0, "linear", factor=2.5)),
    V("llama_rope_dynamic", "llama", "Llama, rope_type dynamic (NTK, factor 2) with max_position_embeddings 16 < T=40 "
      "so the dynamic base kicks in (HF recomputes inv_freq from max position of each forward; during generate "
      "cached keys keep the frequencies of the step that produced them)",
      T=40, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=16,
      rope_parameters=rope(10000.0, "dynamic", factor=2.0)),
    V("llama_rope_yarn", "llama", "Llama, rope_type yarn (factor 4, original_max_position_embeddings 16, "
      "max_position_embeddings 64, T=40; default beta_fast/slow, attention factor from factor)",
      T=40, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=64,
      rope_parameters=rope(10000.0, "yarn", factor=4.0, original_max_position_embeddings=16)),
    V("llama_rope_llama3", "llama", "Llama, rope_type llama3 (factor 4, low 1, high 4, original 32, theta 1e4, "
      "head_dim 32): unchanged, smoothed and scaled frequency bands all occur",
      T=40, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=2, num_key_value_heads=1, rms_norm_eps=1e-5,
      rope_parameters=rope(10000.0, "llama3", factor=4.0, low_freq_factor=1.0, high_freq_factor=4.0,
                           original_max_position_embeddings=32)),
    V("llama_bf16", "llama", "Llama checkpoint stored in BF16 (config dtype bfloat16); reference computed in fp32 "
      "from the bf16-rounded weights",
      T=32, dtype="bfloat16", vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_parameters=rope(500000.0)),
    V("llama_f16_tied", "llama", "Llama checkpoint stored in F16 (config dtype float16), tied embeddings; reference "
      "computed in fp32 from the f16-rounded weights",
      T=32, dtype="float16", vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, tie_word_embeddings=True,
      rope_parameters=rope(), _emb_std=0.15),
    # ---------------- mistral / mixtral ----------------
    V("mistral_sw5", "mistral", "Mistral, sliding_window 5, T=40 (generation runs far past the window with the KV cache)",
      T=40, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=6, num_key_value_heads=2, sliding_window=5, rms_norm_eps=1e-5, rope_parameters=rope()),
    V("mixtral_top1_e8", "mixtral", "Mixtral, 8 experts, top-1 routing (num_experts_per_tok=1), hidden 32",
      T=32, vocab_size=128, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, num_local_experts=8, num_experts_per_tok=1,
      rms_norm_eps=1e-5, rope_parameters=rope(1000000.0)),
    # ---------------- qwen ----------------
    V("qwen2_sw", "qwen2", "Qwen2, use_sliding_window=true, max_window_layers=1, sliding_window 6, 3 layers "
      "(layer 0 full, layers 1-2 sliding), kv=1, qkv biases",
      T=32, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=3, num_key_value_heads=1, use_sliding_window=True, sliding_window=6,
      max_window_layers=1, rms_norm_eps=1e-6, rope_parameters=rope()),
    V("qwen3_mqa", "qwen3", "Qwen3, kv_heads=1, 8 heads, head_dim 24 (q/k RMS norms per head), 3 layers",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=8, num_key_value_heads=1, head_dim=24, rms_norm_eps=1e-6, rope_parameters=rope(1000000.0)),
    V("qwen3_moe_sparse", "qwen3_moe", "Qwen3-MoE, 4 layers, decoder_sparse_step=2, mlp_only_layers=[3] -> only "
      "layer 1 is MoE (6 experts, top-2, norm_topk_prob=false); layers 0,2,3 dense MLP (intermediate_size)",
      T=32, vocab_size=128, hidden_size=48, intermediate_size=80, moe_intermediate_size=32, num_hidden_layers=4,
      num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_experts=6,
      num_experts_per_tok=2, norm_topk_prob=False, decoder_sparse_step=2, mlp_only_layers=[3],
      rms_norm_eps=1e-6, rope_parameters=rope()),
    # ---------------- gemma ----------------
    V("gemma_mqa_hd48", "gemma", "Gemma (2B style) multi-query kv=1, 4 heads, head_dim 48 (q 192-wide), hidden 64, tied",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=1, head_dim=48, rms_norm_eps=1e-6, tie_word_embeddings=True,
      hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh", rope_parameters=rope()),
    V("gemma2_sw4", "gemma2", "Gemma2, sliding_window 4, T=40, 3 layers (sliding, full, sliding), softcaps 8/6, "
      "query_pre_attn_scalar 24, head_dim 16 with hidden 48",
      T=40, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=4, query_pre_attn_scalar=24,
      attn_logit_softcapping=8.0, final_logit_softcapping=6.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
      hidden_activation="gelu_pytorch_tanh", rope_parameters=rope()),
    V("gemma3_7l_linear", "gemma3_text", "Gemma3 text, 7 layers with the default pattern (5 sliding, 1 full, 1 sliding), "
      "sliding_window 6, rope linear factor 4 (theta 1e6) on full-attention layers, default theta 1e4 on sliding",
      T=32, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=7,
      num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=6, query_pre_attn_scalar=16,
      rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_activation="gelu_pytorch_tanh",
      rope_parameters={"full_attention": rope(1000000.0, "linear", factor=4.0),
                       "sliding_attention": rope(10000.0)}),
    # ---------------- phi3 ----------------
    V("phi3_longrope_partial", "phi3", "Phi3, rope longrope (short/long factor lists of length rotary_dim/2=4), "
      "partial_rotary_factor 0.5 (head_dim 16, rotary 8), original_max_position_embeddings 16, "
      "max_position_embeddings 64, T=32 so long factors apply to the forward; generate starts short (prompt 8) "
      "and HF switches to long factors once the sequence exceeds 16",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=64,
      original_max_position_embeddings=16, partial_rotary_factor=0.5,
      rope_parameters=rope(10000.0, "longrope", partial_rotary_factor=0.5,
                           short_factor=[1.0, 1.3, 1.9, 2.6], long_factor=[1.1, 2.0, 4.5, 9.0],
                           original_max_position_embeddings=16)),
    V("phi3_sw", "phi3", "Phi3 with sliding_window 6 (all layers), kv=1, T=32",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=1, sliding_window=6, rms_norm_eps=1e-5, rope_parameters=rope()),
    # ---------------- others ----------------
    V("nemotron_partial025_mqa", "nemotron", "Nemotron, partial_rotary_factor 0.25 (head_dim 16, rotary 4), kv=1, "
      "LayerNorm1P (1+w) with bias, relu2 MLP, 3 layers",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=4, num_key_value_heads=1, head_dim=16, norm_eps=1e-5, partial_rotary_factor=0.25,
      rope_parameters=rope(10000.0, partial_rotary_factor=0.25)),
    V("granite_mult", "granite", "Granite with embedding_multiplier 12, attention_multiplier 0.05, "
      "residual_multiplier 0.22, logits_scaling 8, 8 heads / kv 1, tied embeddings, 3 layers",
      T=32, vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=8, num_key_value_heads=1, embedding_multiplier=12.0, attention_multiplier=0.05,
      residual_multiplier=0.22, logits_scaling=8.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
      rope_parameters=rope()),
    V("olmo2_3l_mqa", "olmo2", "OLMo2, 3 layers, kv=1 (q_norm over 48, k_norm over 12), hidden 48",
      T=32, vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
      num_attention_heads=4, num_key_value_heads=1, rms_norm_eps=1e-6, rope_parameters=rope()),
    V("llama4_chunk5", "llama4_text", "Llama4 text, attention_chunk_size 5, T=40, no_rope_layers [1,0,1,1,0] "
      "(layers 1,4 NoPE/full attention, others RoPE/chunked), moe_layers [0,2,3] with 2 experts top-1 + shared "
      "expert, use_qk_norm, attn_temperature_tuning with floor_scale 4 and attn_scale 0.5",
      T=40, vocab_size=128, hidden_size=48, intermediate_size=64, intermediate_size_mlp=96, num_hidden_layers=5,
      num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=2, num_experts_per_tok=1,
      moe_layers=[0, 2, 3], no_rope_layers=[1, 0, 1, 1, 0], attention_chunk_size=5, use_qk_norm=True,
      attn_temperature_tuning=True, floor_scale=4, attn_scale=0.5, rms_norm_eps=1e-5,
      rope_parameters=rope(500000.0)),
]


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def init_weights(model, model_type, hidden, gen, emb_std=None):
    one_plus = model_type in ONE_PLUS_NORM
    if emb_std is None:
        emb_std = 0.5 / math.sqrt(hidden) if model_type in SCALED_EMBED else 0.5
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith(".bias"):
                v = 0.1 * r
            elif "norm" in name.split(".")[-2] or "norm" in name.split(".")[-1] or "layernorm" in name:
                v = 0.1 * r if one_plus else 1.0 + 0.1 * r
            elif "embed_tokens" in name:
                v = emb_std * r
            elif p.ndim == 2:
                v = r / math.sqrt(p.shape[1])
            elif p.ndim == 3:
                v = 0.12 * r
            else:
                v = 0.1 * r
            p.copy_(v.to(p.dtype))


def logit_margin(logits):
    top = torch.topk(logits, 2, dim=-1).values
    return float((top[..., 0] - top[..., 1]).min())


def disable_eos(model):
    gc = model.generation_config
    for attr in ("eos_token_id",):
        try:
            setattr(gc, attr, None)
        except Exception:
            pass
    try:
        model.config.eos_token_id = None
    except Exception:
        pass


def build_one(v, outdir):
    name, mt = v["name"], v["model_type"]
    T, N = v["T"], v["N"]
    seed = seed_of(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    kw = dict(COMMON)
    kw.update(v["cfg"])
    emb_std = kw.pop("_emb_std", None)  # generator-only option, not a config field
    cfg = CONFIG_MAPPING[mt](**kw)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    model.eval()
    init_weights(model, mt, cfg.hidden_size, gen, emb_std)
    vocab = cfg.vocab_size

    d = os.path.join(outdir, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    store = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[v["dtype"]]
    if store != torch.float32:
        model = model.to(store)
    model.save_pretrained(d, safe_serialization=True)
    model = model.to(torch.float32)  # rounded weights, upcast

    # reload from disk exactly as a user would, fp32, eager
    m2 = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    m2.eval()
    sd1, sd2 = model.state_dict(), m2.state_dict()
    mism = [k for k in sd1 if k not in sd2 or not torch.equal(sd1[k], sd2[k])]
    mism += [k for k in sd2 if k not in sd1]

    ids = torch.randint(3, vocab, (2, T), generator=gen, dtype=torch.int64)
    with torch.no_grad():
        out = m2(input_ids=ids, labels=ids, output_hidden_states=True)
        out_mem = model(input_ids=ids, output_hidden_states=False)
    logits = out.logits.float()
    reload_diff = float((logits - out_mem.logits.float()).abs().max())
    hs = out.hidden_states
    tensors = {"input_ids": ids.contiguous(), "logits": logits.contiguous(),
               "loss": out.loss.detach().float().reshape(1).contiguous()}
    for i, h in enumerate(hs):
        tensors[f"hidden.{i}"] = h.float().contiguous()

    # Loss and every parameter gradient (labels = input_ids, mean over the batch's shifted tokens), as the
    # shared fixtures hold them: names are transformers' in-memory names (fused experts stay fused; a tied
    # lm_head is the embedding and appears once). Taken before generate(), which leaves state behind
    # (dynamic RoPE keeps the frequencies of the longest sequence it saw).
    m2.zero_grad(set_to_none=True)
    out_g = m2(input_ids=ids, labels=ids)
    out_g.loss.backward()
    grad_loss_diff = float((out_g.loss.detach() - out.loss.detach()).abs())
    n_grads = 0
    for pname, p in m2.named_parameters():
        if p.grad is not None:
            tensors[f"grad.{pname}"] = p.grad.detach().float().contiguous()
            n_grads += 1
    m2.zero_grad(set_to_none=True)
    # greedy generation with KV cache, no eos stopping
    prompt = ids[:1, :PROMPT_LEN].clone()
    disable_eos(m2)
    with torch.no_grad():
        g = m2.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=N,
                        min_new_tokens=0, eos_token_id=None, pad_token_id=0, use_cache=True,
                        return_dict_in_generate=True, output_logits=True, num_beams=1,
                        temperature=None, top_p=None, top_k=None)
    seq = g.sequences
    if seq.shape[1] != PROMPT_LEN + N:
        raise RuntimeError(f"generate stopped early: {seq.shape}")
    gen_margin = min(logit_margin(l) for l in g.logits) if g.logits else None
    # same greedy decode without cache (full forward every step)
    cur = prompt.clone()
    with torch.no_grad():
        for _ in range(N):
            nxt = m2(input_ids=cur, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            cur = torch.cat([cur, nxt], dim=1)
    nocache_match = bool(torch.equal(cur, seq))
    first_diff = None
    if not nocache_match:
        diff = (cur != seq).nonzero()
        first_diff = int(diff[0, 1]) if len(diff) else None
    tensors["generate.prompt"] = prompt.contiguous()
    tensors["generate.output"] = seq.contiguous()
    save_file(tensors, os.path.join(d, "reference.safetensors"), metadata={"format": "pt"})

    info = dict(description=v["desc"], model_type=mt, architecture=type(m2).__name__,
                storage_dtype=v["dtype"], T=T, new_tokens=N, seed=seed,
                num_hidden_states=len(hs), loss=float(out.loss), gradients=n_grads,
                checks=dict(reload_state_dict_mismatch=mism[:10], reload_logits_max_abs_diff=reload_diff,
                            min_top2_logit_margin_forward=logit_margin(logits),
                            min_top2_logit_margin_generate=gen_margin,
                            generate_equals_nocache_greedy=nocache_match,
                            nocache_first_diff_index=first_diff, grad_pass_loss_diff=grad_loss_diff))
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata/hf")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(x for x in a.only.split(",") if x)
    manifest = {"torch": torch.__version__, "transformers": transformers.__version__, "set": "extra",
                "generator": "tools/hf-reference/make_references.py",
                "format": "reference.safetensors: input_ids I64[2,T], logits F32[2,T,V], hidden.0..hidden.L F32[2,T,H] "
                          "(output_hidden_states), generate.prompt I64[1,8], generate.output I64[1,8+N] (greedy, "
                          "KV cache, eos disabled so exactly N new tokens), loss F32[1] (labels=input_ids), grad.<parameter> F32 "
                          "(gradient of that loss for every parameter, transformers' in-memory names, fused experts fused). "
                          "Reference computed in fp32 on CPU, eager attention, from the checkpoint reloaded from disk.",
                "weights": "seeded (crc32 of the variant name): norm weights 1+0.1*N(0,1) (0.1*N(0,1) for the (1+w) norms "
                           "of gemma/gemma2/gemma3/nemotron), biases 0.1*N(0,1), embeddings 0.5*N(0,1) (0.5/sqrt(H) for "
                           "gemma-family, 0.15 for llama_f16_tied), 2-D weights N(0,1)/sqrt(fan_in), fused 3-D expert "
                           "tensors 0.12*N(0,1); input_ids uniform in [3,V).",
                "notes": "checks.generate_equals_nocache_greedy compares generate.output with a greedy loop that re-runs "
                         "the full sequence without cache. It is false for llama_rope_dynamic and phi3_longrope_partial "
                         "by design: HF recomputes the rope frequencies from the current sequence length (dynamic NTK; "
                         "longrope short->long switch past original_max_position_embeddings), while keys already in the "
                         "KV cache keep the rotation they were computed with. generate.output is the KV-cache result.",
                "ok": [], "failed": {}, "variants": {}}
    for v in VARIANTS:
        if only and v["name"] not in only:
            continue
        t0 = time.time()
        try:
            info = build_one(v, a.out)
            manifest["ok"].append(v["name"])
            manifest["variants"][v["name"]] = info
            print(f"OK   {v['name']:28s} {time.time()-t0:5.1f}s loss={info['loss']:.4f} "
                  f"nocache={info['checks']['generate_equals_nocache_greedy']} "
                  f"margin={info['checks']['min_top2_logit_margin_generate']:.2e} "
                  f"mism={info['checks']['reload_state_dict_mismatch']} diff={info['checks']['reload_logits_max_abs_diff']:.1e}",
                  flush=True)
        except Exception as e:
            tb = traceback.format_exc()
            manifest["failed"][v["name"]] = f"{type(e).__name__}: {e}"[:2000]
            print(f"FAIL {v['name']}: {tb}", flush=True)
            d = os.path.join(a.out, v["name"])
            if os.path.exists(d):
                shutil.rmtree(d)
    with open(os.path.join(a.out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"done: {len(manifest['ok'])} ok, {len(manifest['failed'])} failed")


if __name__ == "__main__":
    main()
