# Recipe sweep for jllm's default model (models/default), run on a GPU machine to choose the recipe
# before spending CPU hours: the same Llama shape (RMSNorm, RoPE halves, SwiGLU, tied embeddings),
# data split, [BOS]-prefixed 256-token windows, N(0, 0.02) init with GPT-2 residual scaling, AdamW,
# warmup + cosine schedule, clipping and validation measure (nats per character over the whole
# validation text, non-overlapping windows) as `jllm train`. See README.md here.
#
#   python3 proxy.py prepare TOKENIZER_DIR TEXT     # token ids of the 90% / 10% split into ids/
#   python3 proxy.py CONFIGS.jsonl WORKER WORKERS OUT.jsonl   # run every WORKERS-th config
import json, math, os, sys, time, traceback
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


def rope_tables(T, hd, theta, dev):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, device=dev, dtype=torch.float32) / hd))
    f = torch.outer(torch.arange(T, device=dev, dtype=torch.float32), inv)
    emb = torch.cat([f, f], -1)
    return emb.cos(), emb.sin()


def rot(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.kv = c["d"], c["heads"], c["kv"]
        self.hd = d // self.h
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)
        self.q = nn.Linear(d, self.h * self.hd, bias=False)
        self.k = nn.Linear(d, self.kv * self.hd, bias=False)
        self.v = nn.Linear(d, self.kv * self.hd, bias=False)
        self.o = nn.Linear(self.h * self.hd, d, bias=False)
        self.gate = nn.Linear(d, c["ffn"], bias=False)
        self.up = nn.Linear(d, c["ffn"], bias=False)
        self.down = nn.Linear(c["ffn"], d, bias=False)
        self.drop = c.get("dropout", 0.0)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        y = self.n1(x)
        q = self.q(y).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(y).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(y).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = rot(q, cos, sin), rot(k, cos, sin)
        if self.kv != self.h:
            k = k.repeat_interleave(self.h // self.kv, 1)
            v = v.repeat_interleave(self.h // self.kv, 1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.drop if self.training else 0.0)
        a = self.o(a.transpose(1, 2).reshape(B, T, -1))
        x = x + F.dropout(a, self.drop, self.training)
        y = self.n2(x)
        m = self.down(F.silu(self.gate(y)) * self.up(y))
        return x + F.dropout(m, self.drop, self.training)


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.emb = nn.Embedding(c["V"], c["d"])
        self.blocks = nn.ModuleList([Block(c) for _ in range(c["L"])])
        self.norm = RMSNorm(c["d"])
        std = c.get("std", 0.02)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                s = std / math.sqrt(2 * c["L"]) if (n.endswith("o.weight") or n.endswith("down.weight")) else std
                nn.init.normal_(p, 0.0, s)

    def forward(self, idx, cos, sin):
        x = F.dropout(self.emb(idx), self.c.get("emb_dropout", self.c.get("dropout", 0.0)), self.training)
        for b in self.blocks:
            x = b(x, cos, sin)
        return F.linear(self.norm(x), self.emb.weight)


def lr_at(step, c):
    w, total = c["warmup"], c["steps"]
    if step < w:
        return c["lr"] * step / max(1, w)
    prog = (step - w) / max(1, total - w)
    f = max(0.0, 0.5 * (1 + math.cos(math.pi * prog)))
    return c["lr"] * (c.get("min_lr_frac", 0.0) + (1 - c.get("min_lr_frac", 0.0)) * f)


def evaluate(model, val, bos, T, dev, cos, sin, val_chars):
    model.eval()
    n = len(val)
    W = (n + T - 1) // T
    nats = 0.0
    with torch.no_grad():
        full = n // T
        rows = []
        for w in range(full):
            rows.append(val[w * T:(w + 1) * T])
        if rows:
            y = torch.tensor(np.stack(rows).astype(np.int64), device=dev)
            x = torch.cat([torch.full((y.shape[0], 1), bos, device=dev, dtype=torch.long), y[:, :-1]], 1)
            for i in range(0, x.shape[0], 64):
                lg = model(x[i:i + 64], cos, sin)
                nats += F.cross_entropy(lg.float().reshape(-1, lg.shape[-1]), y[i:i + 64].reshape(-1), reduction="sum").item()
        if n % T:
            y = torch.tensor(val[full * T:].astype(np.int64), device=dev)[None]
            x = torch.cat([torch.full((1, 1), bos, device=dev, dtype=torch.long), y[:, :-1]], 1)
            L = x.shape[1]
            lg = model(x, cos[:L], sin[:L])
            nats += F.cross_entropy(lg.float().reshape(-1, lg.shape[-1]), y.reshape(-1), reduction="sum").item()
    model.train()
    return nats / val_chars, nats / n


def run(c, dev):
    torch.manual_seed(c.get("seed", 1))
    V = c["V"]
    tr = np.fromfile(f"{HERE}/ids/train{V}.u16", dtype=np.uint16).astype(np.int64)
    va = np.fromfile(f"{HERE}/ids/val{V}.u16", dtype=np.uint16).astype(np.int64)
    meta = json.load(open(f"{HERE}/ids/meta{V}.json"))
    T, B = c["T"], c["B"]
    c.setdefault("steps", int(c["tokens"] // (T * B)))
    model = Llama(c).to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": c["wd"]}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=c["lr"], betas=(0.9, c.get("b2", 0.99)), eps=1e-8, fused=True)
    cos, sin = rope_tables(T, c["d"] // c["heads"], c.get("theta", 10000.0), dev)
    rng = np.random.default_rng(c.get("data_seed", 7))
    bos = meta["bos"]
    curve = []
    t0 = time.time()
    evals = c.get("evals", 4)
    cur_ep, perm, shift = [-1], [None], [0]
    for step in range(c["steps"]):
        mode = c.get("chunks", "random")
        if mode == "random":
            o = rng.integers(0, len(tr) - T, B)
        else:
            text = T - 1
            nch = (len(tr) - T) // text
            pos = step * B
            ep, within = pos // nch, pos % nch
            if ep != cur_ep[0]:
                cur_ep[0] = ep
                perm[0] = np.random.default_rng(1000 + ep).permutation(nch)
                shift[0] = int(np.random.default_rng(5000 + ep).integers(0, text)) if mode == "shifted" else 0
            idx = [perm[0][(within + j) % nch] for j in range(B)]
            o = np.array([shift[0] + k * text for k in idx])
        y = np.stack([tr[i:i + T] for i in o])
        yt = torch.from_numpy(y).to(dev, non_blocking=True)
        x = torch.cat([torch.full((B, 1), bos, device=dev, dtype=torch.long), yt[:, :-1]], 1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, c)
        lg = model(x, cos, sin)
        loss = F.cross_entropy(lg.reshape(-1, V), yt.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.get("clip", 1.0))
        opt.step()
        if (step + 1) % max(1, c["steps"] // evals) == 0 or step == c["steps"] - 1:
            vc, vt = evaluate(model, va, bos, T, dev, cos, sin, meta["val_chars"])
            curve.append([step + 1, round(loss.item(), 4), round(vc, 4)])
    vc, vt = evaluate(model, va, bos, T, dev, cos, sin, meta["val_chars"])
    return {"cfg": c, "params": nparams, "val_nats_per_char": round(vc, 4), "val_loss_per_token": round(vt, 4),
            "train_loss_last": round(loss.item(), 4), "curve": curve, "secs": round(time.time() - t0, 1),
            "best_val": min([p[2] for p in curve] + [vc])}


def prepare(tok_dir, text_path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    text = open(text_path, encoding="utf-8").read()
    cut = int(len(text) * 0.9)
    V = tok.get_vocab_size()
    os.makedirs(f"{HERE}/ids", exist_ok=True)
    for name, part in (("train", text[:cut]), ("val", text[cut:])):
        np.array(tok.encode(part, add_special_tokens=False).ids, dtype=np.uint16).tofile(f"{HERE}/ids/{name}{V}.u16")
    json.dump({"val_chars": len(text) - cut, "bos": tok.token_to_id("<|bos|>"), "vocab": V}, open(f"{HERE}/ids/meta{V}.json", "w"))


def main():
    if sys.argv[1] == "prepare":
        return prepare(sys.argv[2], sys.argv[3])
    cfgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    wid, nw = int(sys.argv[2]), int(sys.argv[3])
    out = sys.argv[4]
    torch.backends.cuda.matmul.allow_tf32 = True
    dev = "cuda"
    for i in range(wid, len(cfgs), nw):
        c = cfgs[i]
        try:
            r = run(dict(c), dev)
        except Exception as e:
            r = {"cfg": c, "error": traceback.format_exc()[-800:]}
        with open(out, "a") as f:
            f.write(json.dumps(r) + "\n")
        print(json.dumps({k: r.get(k) for k in ("cfg", "params", "val_nats_per_char", "best_val", "train_loss_last", "secs", "error")}), flush=True)


if __name__ == "__main__":
    main()
