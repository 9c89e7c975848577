#!/usr/bin/env python3
"""Check testdata/hf/*: safetensors headers parse, shapes/dtypes match the reference format, loss matches
the logits (numpy cross-entropy), every grad.* is finite F32 and names a model tensor (fused MoE experts
and Mixtral's renamed router excepted). Needs only numpy. Usage: python3 verify_references.py [testdata/hf]"""
import json, os, struct, sys
import numpy as np

DT = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64}


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out, end = {}, 0
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=DT[v["dtype"]])
        assert a.size == int(np.prod(v["shape"])), (path, k)
        out[k] = (v["dtype"], a.reshape(v["shape"]))
        end = max(end, e)
    assert 8 + n + end == len(b), f"{path}: trailing/missing bytes"
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "testdata/hf"
    man = json.load(open(os.path.join(root, "MANIFEST.json")))
    total, bad = 0, []
    for name in man["ok"]:
        d = os.path.join(root, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        m = load(os.path.join(d, "model.safetensors"))
        r = load(os.path.join(d, "reference.safetensors"))
        info = man["variants"][name]
        T, N, L = info["T"], info["new_tokens"], cfg["num_hidden_layers"]
        V, H = cfg["vocab_size"], cfg["hidden_size"]
        want_dt = {"float32": "F32", "bfloat16": "BF16", "float16": "F16"}[info["storage_dtype"]]
        dts = {dt for dt, _ in m.values()}
        exp = {"input_ids": ("I64", [2, T]), "logits": ("F32", [2, T, V]), "loss": ("F32", [1]),
               "generate.prompt": ("I64", [1, 8]), "generate.output": ("I64", [1, 8 + N])}
        exp.update({f"hidden.{i}": ("F32", [2, T, H]) for i in range(L + 1)})
        errs = []
        if dts != {want_dt}:
            errs.append(f"model dtypes {dts}")
        grads = {k: v for k, v in r.items() if k.startswith("grad.")}
        if set(r) - set(grads) != set(exp):
            errs.append(f"keys {sorted((set(r) - set(grads)) ^ set(exp))}")
        if not grads:
            errs.append("no grad.* tensors")
        for k, (dt, a) in grads.items():
            if dt != "F32" or not np.all(np.isfinite(a)):
                errs.append(f"{k}: {dt}, finite={bool(np.all(np.isfinite(a)))}")
            if k[5:] not in m and not any(x in k for x in ("experts.gate_up_proj", "experts.down_proj", "mlp.gate.weight")):
                errs.append(f"{k}: no such tensor in model.safetensors")
        for k, (dt, shp) in exp.items():
            if k in r and (r[k][0] != dt or list(r[k][1].shape) != shp):
                errs.append(f"{k}: {r[k][0]} {list(r[k][1].shape)} != {dt} {shp}")
        ids, lg = r["input_ids"][1], r["logits"][1].astype(np.float64)
        x = lg[:, :-1]
        lse = np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)
        tgt = np.take_along_axis(x, ids[:, 1:, None], -1)[..., 0]
        loss = float((lse - tgt).mean())
        if abs(loss - float(r["loss"][1][0])) > 1e-4 * max(1, loss):
            errs.append(f"loss {loss} vs {float(r['loss'][1][0])}")
        if not np.array_equal(r["generate.output"][1][:, :8], r["generate.prompt"][1]):
            errs.append("generate.output does not start with prompt")
        if not np.array_equal(r["generate.prompt"][1], ids[:1, :8]):
            errs.append("prompt != input_ids[0,:8]")
        sz = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        total += sz
        print(f"{'OK ' if not errs else 'BAD'} {name:26s} {cfg['model_type']:12s} T={T:2d} L={L} V={V} H={H} "
              f"store={want_dt:4s} logit_std={lg.std():.2f} loss={loss:.3f} {sz/1024:.0f}KiB {'; '.join(errs)}")
        if errs:
            bad.append(name)
    print(f"{len(man['ok'])} variants, {len(bad)} bad, failed in generator: {list(man['failed'])}, "
          f"total {total/1e6:.2f} MB")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
