#!/usr/bin/env python3
"""Generates template/src/test/resources/jllm/template/mutation-diff.json: real chat templates of
shared/fixtures/chat-templates with random edits (chunks deleted, duplicated, moved; tag and quote
characters inserted), rendered by jinja2 configured like transformers. Each case stores the edits
explicitly (so the Java test replays them exactly) and the rendering as SHA-256 + length, or the error.
Mostly cases that still compile are kept: they exercise the engine on near-real code.

Run from the repository root:  python3 tools/gen_mutation_diff.py [FIXTURES_DIR]
"""
import copy
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gen_jinja_cases import _compile_jinja_template as environment  # noqa: E402

FIX = sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures"
OUT = "template/src/test/resources/jllm/template/mutation-diff.json"
NOISE = "{}%#-+()[]'\",.|~*/ \n\tifendforsetmacroloop"
N = int(os.environ.get("JLLM_FUZZ_N", 3000))  # larger local runs: JLLM_FUZZ_N=10000 JLLM_FUZZ_SEED=2


def mutate(s, r):
    edits = []
    for _ in range(1 + r.randrange(3)):
        if not s:
            break
        at = r.randrange(len(s))
        n = min(len(s) - at, 1 + r.randrange(40))
        kind = r.randrange(4)
        if kind == 0:
            edits.append(["delete", at, n, ""])
            s = s[:at] + s[at + n:]
        elif kind == 1:
            pos = r.randrange(len(s))
            chunk = s[at:at + n]
            edits.append(["insert", pos, 0, chunk])
            s = s[:pos] + chunk + s[pos:]
        elif kind == 2:
            pos = r.randrange(len(s) + 1)
            ch = "".join(r.choice(NOISE) for _ in range(1 + r.randrange(3)))
            edits.append(["insert", pos, 0, ch])
            s = s[:pos] + ch + s[pos:]
        else:
            chunk = s[at:at + n]
            s = s[:at] + s[at + n:]
            pos = r.randrange(len(s) + 1)
            edits.append(["delete", at, n, ""])
            edits.append(["insert", pos, 0, chunk])
            s = s[:pos] + chunk + s[pos:]
    return s, edits


def main():
    tdir = os.path.join(FIX, "chat-templates")
    names = sorted(json.load(open(os.path.join(tdir, "reference.json")))["templates"])
    convs = json.load(open(os.path.join(tdir, "conversations.json")))
    tools = json.load(open(os.path.join(tdir, "tools.json")))
    ctx = dict(messages=convs["tool_call"], tools=tools, add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
    env = environment()
    r = random.Random(int(os.environ.get("JLLM_FUZZ_SEED", 31337)))
    cases = []
    while len(cases) < N:
        name = r.choice(names)
        src, edits = mutate(open(os.path.join(tdir, name), encoding="utf-8").read(), r)
        case = {"template": name, "edits": edits}
        try:
            out = env.from_string(src).render(**copy.deepcopy(ctx))
            case["sha256"] = hashlib.sha256(out.encode("utf-8")).hexdigest()
            case["length"] = len(out)
        except Exception as e:
            msg = type(e).__name__ + ": " + str(e)
            if "<locals>.t_" in msg or "<locals>.f_" in msg:
                continue  # jinja2's stubs for missing filters/tests reject keyword arguments first: an artifact
            if type(e).__name__ in ("TemplateSyntaxError", "TemplateAssertionError") and r.random() < 0.9:
                continue
            case["error"] = msg
        cases.append(case)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"context": "tool_call conversation + tools.json, add_generation_prompt, <s>, </s>", "cases": cases},
                  f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"wrote {len(cases)} cases ({sum('error' in c for c in cases)} errors) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
