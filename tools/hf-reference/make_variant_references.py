#!/usr/bin/env python3
"""Generate Hugging Face transformers references made with a KNOWN implementation variant.

`jllm doctor compare --variants` re-runs a model with implementation choices toggled (GELU exact vs
tanh, RoPE / embedding-scale / softmax precision, norm upcast before/after the weight, (1+w) vs w
norms, soft-capping on/off) and ranks them by their error against a reference trace. Each folder
this script writes is a tiny random-weight model whose config.json says one thing while the
reference was computed another way (the bugs released models and ports have shipped with); the
manifest names the variant, and jllm must rank exactly that variant first
(doctor/src/test/java/jllm/doctor/variants/HfVariantReferencesTest.java).

Each <out>/<name>/ holds:
  config.json        what the release claims (the model's own settings for jllm)
  model.safetensors  the weights (fp32, or bf16 for the variants computed in bf16)
  reference.safetensors
      input_ids int64 [2,T]; logits f32 [2,T,V]; hidden.0..hidden.L f32 [2,T,H] (output_hidden_states),
      metadata compute_dtype = float32 | bfloat16 (the dtype the reference forward ran in)
and <out>/MANIFEST.json lists, per variant, `settings` (the variant keys and values that produced
the reference, as `doctor compare --variants --json` names them; {} = the config's own settings),
`precision` (fp32 | bf16: the activation dtype to run jllm in), a description and checks.

What each variant computes is written out below with explicit torch ops, each matching the
definition in jllm's tensor/Numerics.java:
  rope_precision=bf16     inv_freq, positions and angles in bf16 (each product rounded), cos/sin in bf16
  softmax_precision=bf16  scores to bf16, e = exp(s - max) in bf16, sum of e in fp32, p = (e / sum) to bf16
  norm_upcast=after_weight  y = (1 + w) * xhat.to(bf16), the weight and product in bf16 (HF Llama's order)
  norm_offset=w           y = xhat * w instead of xhat * (1 + w)
  embed_scale_precision=fp32  embeddings * sqrt(hidden) with the multiplier in fp32 (HF rounds it to bf16)
  activation=gelu_exact   hidden_activation "gelu" (erf) while config.json says gelu_pytorch_tanh
  softcap=off             attention and final-logit soft-capping disabled while config.json sets them

Usage (from the repository root; CPU, deterministic, well under a minute, < 5 MB):
    python3 tools/hf-reference/make_variant_references.py --out testdata/hf-variants
Needs torch + transformers 5.17 + safetensors.
"""
import argparse
import contextlib
import json
import math
import os
import shutil
import time
import traceback
import types
import zlib

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, CONFIG_MAPPING

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)

COMMON = dict(bos_token_id=1, eos_token_id=2, pad_token_id=0, max_position_embeddings=256, tie_word_embeddings=True,
              vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
              rope_parameters=dict(rope_theta=10000.0, rope_type="default"))
GEMMA_ACT = dict(hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh")
ONE_PLUS_NORM = {"gemma", "gemma2", "gemma3_text"}


def V(name, model_type, desc, settings, precision="fp32", T=48, patch=None, true_cfg=None, **cfg):
    """settings: the variant as jllm names it; patch: how the reference forward deviates;
    true_cfg: config values the reference ran with where they differ from the saved config.json."""
    return dict(name=name, model_type=model_type, desc=desc, settings=settings, precision=precision, T=T,
                patch=patch, true_cfg=true_cfg or {}, cfg=cfg)


VARIANTS = [
    V("gemma_exact_gelu", "gemma", "Gemma whose reference ran exact (erf) GELU while config.json says gelu_pytorch_tanh "
      "(the GELU mix-up between Gemma implementations)", {"activation": "gelu_exact"},
      true_cfg=dict(hidden_act="gelu", hidden_activation="gelu"), **GEMMA_ACT),
    V("gemma_norm_w", "gemma", "Gemma whose reference multiplied its RMSNorms by w instead of (1 + w) "
      "(a converter that forgot the +1, or added it twice)", {"norm_offset": "w"}, patch="norm_w", **GEMMA_ACT),
    V("gemma2_softcap_off", "gemma2", "Gemma 2 whose reference ran without soft-capping (attention and final logits) "
      "while config.json sets attn_logit_softcapping 8 and final_logit_softcapping 6 (as flash/SDPA paths once did)",
      {"softcap": "off"}, true_cfg=dict(attn_logit_softcapping=None, final_logit_softcapping=None),
      attn_logit_softcapping=8.0, final_logit_softcapping=6.0, query_pre_attn_scalar=16, sliding_window=16,
      **GEMMA_ACT),
    V("llama_softmax_bf16", "llama", "Llama (fp32) whose reference computed the attention softmax in bf16",
      {"softmax_precision": "bf16"}, patch="softmax_bf16", hidden_act="silu"),
    V("llama_bf16", "llama", "Llama computed in bf16 (weights, activations; fp32 norms, softmax and RoPE tables as "
      "transformers does): jllm's bf16 emulation with the config's own settings must rank first",
      {}, precision="bf16", hidden_act="silu"),
    V("llama_bf16_rope_bf16", "llama", "Llama computed in bf16 with RoPE's frequencies, positions and angles in bf16 "
      "(the well-known bug that merges positions), T=96", {"rope_precision": "bf16"}, precision="bf16", T=96,
      patch="rope_bf16", hidden_act="silu"),
    V("gemma_bf16_embed_fp32", "gemma", "Gemma computed in bf16 whose embedding normalizer sqrt(48) stayed fp32 "
      "(6.9282) where transformers rounds it to bf16 (6.9375); hidden 48", {"embed_scale_precision": "fp32"},
      precision="bf16", patch="embed_scale_fp32", hidden_size=48, head_dim=12, **GEMMA_ACT),
    V("gemma_bf16_norm_after_weight", "gemma", "Gemma computed in bf16 whose RMSNorm applied (1 + w) in bf16 after "
      "casting the normalised value (HF Llama's order) instead of in fp32 before the cast",
      {"norm_upcast": "after_weight"}, precision="bf16", patch="norm_after_weight", **GEMMA_ACT),
    V("gemma2_bf16", "gemma2", "Gemma 2 computed in bf16 with its own settings (soft-caps 8/6, sliding window 16): "
      "the config's settings must rank first", {}, precision="bf16", attn_logit_softcapping=8.0,
      final_logit_softcapping=6.0, query_pre_attn_scalar=16, sliding_window=16, **GEMMA_ACT),
]


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def init_weights(model, model_type, hidden, gen):
    one_plus = model_type in ONE_PLUS_NORM
    emb_std = 0.5 / math.sqrt(hidden) if one_plus else 0.5
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "norm" in name:
                v = 0.1 * r if one_plus else 1.0 + 0.1 * r
            elif "embed_tokens" in name:
                v = emb_std * r
            elif p.ndim == 2:
                v = r / math.sqrt(p.shape[1])
            else:
                v = 0.1 * r
            p.copy_(v.to(p.dtype))


# ---- the variants' forward deviations, each written with explicit torch ops ------------------------------

def rms_eps(m):
    for a in ("eps", "variance_epsilon"):
        if hasattr(m, a):
            return getattr(m, a)
    raise RuntimeError(f"{type(m).__name__} has no eps attribute")


def norm_w_forward(self, x):
    # (1 + w) forgotten: y = (xhat * w) in fp32, one cast at the end
    xf = x.float()
    xhat = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + rms_eps(self))
    return (xhat * self.weight.float()).type_as(x)


def norm_after_weight_forward(self, x):
    # Llama's order on a (1 + w) norm: cast the normalised value first, then (1 + w) and the product in x's dtype
    xf = x.float()
    xhat = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + rms_eps(self))).to(x.dtype)
    return (1.0 + self.weight.to(x.dtype)) * xhat


def patch_norms(model, fn):
    n = 0
    for m in model.modules():
        if type(m).__name__.endswith("RMSNorm") and hasattr(m, "weight"):
            m.forward = types.MethodType(fn, m)
            n += 1
    if n == 0:
        raise RuntimeError("no RMSNorm modules to patch")
    return n


def rope_forward_in(dtype):
    def forward(self, x, position_ids, *args, **kwargs):
        inv = self.inv_freq.float().to(dtype)
        pos = position_ids.to(dtype)
        freqs = (inv[None, :, None] * pos[:, None, :]).transpose(1, 2)  # each angle rounded to dtype
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        scale = float(getattr(self, "attention_scaling", 1.0))
        if scale != 1.0:
            cos, sin = cos * scale, sin * scale
        return cos.to(x.dtype), sin.to(x.dtype)
    return forward


def patch_rope(model, dtype):
    n = 0
    for m in model.modules():
        if type(m).__name__.endswith("RotaryEmbedding") and hasattr(m, "inv_freq"):
            m.forward = types.MethodType(rope_forward_in(dtype), m)
            n += 1
    if n == 0:
        raise RuntimeError("no RotaryEmbedding module to patch")
    return n


def patch_embed_scale_fp32(model, hidden):
    emb = model.get_input_embeddings()
    if not hasattr(emb, "embed_scale"):
        raise RuntimeError(f"{type(emb).__name__} has no embed_scale: this transformers scales embeddings elsewhere")
    scale = torch.tensor(hidden ** 0.5, dtype=torch.float32)

    def forward(self, input_ids):
        e = torch.nn.functional.embedding(input_ids, self.weight, self.padding_idx)
        return (e.float() * scale).to(e.dtype)  # multiplier kept in fp32, one rounding of the product
    emb.forward = types.MethodType(forward, emb)
    return 1


@contextlib.contextmanager
def softmax_in(low):
    """Attention softmax (4-D scores over the last dim) computed in dtype `low`; other softmaxes unchanged."""
    original = torch.nn.functional.softmax
    calls = [0]

    def softmax(input, dim=None, _stacklevel=3, dtype=None):
        if input.dim() == 4 and dim in (-1, 3):
            calls[0] += 1
            s = input.to(low)
            e = torch.exp(s - s.amax(dim=-1, keepdim=True))  # the difference and the exponential each rounded to `low`
            p = (e.float() / e.float().sum(dim=-1, keepdim=True)).to(low)  # sum in fp32, one rounding of the quotient
            return p.to(dtype if dtype is not None else input.dtype)
        return original(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)
    torch.nn.functional.softmax = softmax
    try:
        yield calls
    finally:
        torch.nn.functional.softmax = original


def fix_inv_freq(model, cfg):
    """transformers keeps inv_freq in fp32; if a bf16 load cast the buffer, restore the fp32 values jllm uses."""
    fixed = []
    for name, m in model.named_modules():
        if hasattr(m, "inv_freq") and m.inv_freq.dtype != torch.float32:
            theta = cfg.rope_parameters["rope_theta"]
            dim = cfg.head_dim
            m.inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
            fixed.append(name)
    return fixed


# ---- one variant ---------------------------------------------------------------------------------------

def forward(model, ids, v):
    """Hidden states and logits of the reference forward, with the variant's patch in effect."""
    with torch.no_grad(), (softmax_in(torch.bfloat16) if v["patch"] == "softmax_bf16" else contextlib.nullcontext([1])) as calls:
        out = model(input_ids=ids, output_hidden_states=True, use_cache=False)
    if calls[0] == 0:
        raise RuntimeError("the attention softmax was never called: the patch did not take effect")
    return [h.float() for h in out.hidden_states], out.logits.float()


def build_one(v, outdir):
    name, mt, T = v["name"], v["model_type"], v["T"]
    seed = seed_of(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    claimed = dict(COMMON)
    claimed.update(v["cfg"])
    true = dict(claimed)
    true.update(v["true_cfg"])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[v["precision"]]

    cfg_true = CONFIG_MAPPING[mt](**true)
    model = AutoModelForCausalLM.from_config(cfg_true, attn_implementation="eager")
    init_weights(model, mt, cfg_true.hidden_size, gen)
    d = os.path.join(outdir, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model.to(dtype).save_pretrained(d, safe_serialization=True)
    # config.json: what the release claims
    cfg_claimed = CONFIG_MAPPING[mt](**claimed)
    cfg_claimed.architectures = model.config.architectures
    cfg_claimed.dtype = str(dtype).replace("torch.", "")
    cfg_claimed.save_pretrained(d)
    for extra in ("generation_config.json",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)

    ids = torch.randint(3, cfg_true.vocab_size, (2, T), generator=gen, dtype=torch.int64)
    # what the config's own settings compute (reloaded from disk, compute dtype, eager attention)
    own = AutoModelForCausalLM.from_pretrained(d, config=cfg_claimed, dtype=dtype, attn_implementation="eager")
    own.eval()
    inv_fixed = fix_inv_freq(own, cfg_claimed)
    hs_own, logits_own = forward(own, ids, dict(v, patch=None))
    # the reference: the TRUE config and the variant's patch
    ref = AutoModelForCausalLM.from_pretrained(d, config=cfg_true, dtype=dtype, attn_implementation="eager")
    ref.eval()
    fix_inv_freq(ref, cfg_true)

    patched = 0
    if v["patch"] == "norm_w":
        patched = patch_norms(ref, norm_w_forward)
    elif v["patch"] == "norm_after_weight":
        patched = patch_norms(ref, norm_after_weight_forward)
    elif v["patch"] == "rope_bf16":
        patched = patch_rope(ref, torch.bfloat16)
    elif v["patch"] == "embed_scale_fp32":
        patched = patch_embed_scale_fp32(ref, cfg_true.hidden_size)
    elif v["patch"] not in (None, "softmax_bf16"):
        raise RuntimeError(f"unknown patch {v['patch']}")
    hs, logits = forward(ref, ids, v)

    def rel(a, b):
        return float((a - b).norm() / b.norm().clamp_min(1e-30))
    effect = max([rel(logits, logits_own)] + [rel(a, b) for a, b in zip(hs, hs_own)])
    deviates = v["patch"] is not None or v["true_cfg"]
    if deviates and effect == 0.0:
        raise RuntimeError("the variant computed exactly what the config's own settings compute: the patch had no effect")

    tensors = {"input_ids": ids.contiguous(), "logits": logits.contiguous()}
    for i, h in enumerate(hs):
        tensors[f"hidden.{i}"] = h.contiguous()
    save_file(tensors, os.path.join(d, "reference.safetensors"),
              metadata={"format": "pt", "compute_dtype": str(dtype).replace("torch.", ""), "variant": json.dumps(v["settings"])})

    checks = dict(variant_vs_own_settings_max_rel=effect, patched_modules=patched, inv_freq_recast_to_fp32=inv_fixed)
    if v["patch"] == "embed_scale_fp32" or (v["precision"] == "bf16" and mt.startswith("gemma")):
        # hidden.0 must be exactly the rounded product jllm computes: (e * s) to bf16, s in fp32 or rounded to bf16
        e = ref.get_input_embeddings().weight[ids].float()
        s = torch.tensor(cfg_true.hidden_size ** 0.5, dtype=torch.float32)
        if v["patch"] != "embed_scale_fp32":
            s = s.to(torch.bfloat16).float()
        checks["hidden0_equals_rounded_product"] = bool(torch.equal((e * s).to(torch.bfloat16).float(), hs[0]))
    return dict(description=v["desc"], model_type=mt, architecture=type(ref).__name__, settings=v["settings"],
                precision=v["precision"], T=T, seed=seed, num_hidden_states=len(hs),
                claimed_config={k: claimed.get(k) for k in sorted(v["true_cfg"])}, reference_config=v["true_cfg"],
                checks=checks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata/hf-variants")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(x for x in a.only.split(",") if x)
    manifest = {"torch": torch.__version__, "transformers": transformers.__version__,
                "generator": "tools/hf-reference/make_variant_references.py",
                "format": "reference.safetensors: input_ids I64[2,T], logits F32[2,T,V], hidden.0..hidden.L F32[2,T,H]; "
                          "metadata compute_dtype. settings: the variant (doctor compare --variants keys) that produced the "
                          "reference, {} = config.json's own settings; precision: the activation dtype to compare in.",
                "ok": [], "failed": {}, "variants": {}}
    todo = [v for v in VARIANTS if not only or v["name"] in only]
    for v in todo:
        name, t0 = v["name"], time.time()
        try:
            info = build_one(v, a.out)
        except Exception as e:
            manifest["failed"][name] = f"{type(e).__name__}: {e}"[:2000]
            shutil.rmtree(os.path.join(a.out, name), ignore_errors=True)
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
            continue
        manifest["ok"].append(name)
        manifest["variants"][name] = info
        print(f"OK   {name:30s} {time.time() - t0:5.1f}s settings={v['settings']} precision={v['precision']} "
              f"effect={info['checks']['variant_vs_own_settings_max_rel']:.2e} checks={info['checks']}", flush=True)
    with open(os.path.join(a.out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"done: {len(manifest['ok'])} ok, {len(manifest['failed'])} failed")


if __name__ == "__main__":
    main()
