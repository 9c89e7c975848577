#!/usr/bin/env python3
"""Generates template/src/test/resources/jllm/template/stmt-fuzz.json: seeded random templates mixing
text, whitespace and newlines with block tags (if/for/set/macro/call/filter/raw), comments and
output tags, each with random '-'/'+' whitespace markers, rendered by jinja2 configured like
transformers (trim_blocks, lstrip_blocks, loopcontrols). Exercises the lexer's whitespace rules and
statement scoping. Deterministic (fixed seed).

Run from the repository root:  python3 tools/gen_stmt_fuzz.py
"""
import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gen_jinja_cases import _compile_jinja_template as environment  # noqa: E402

OUT = "template/src/test/resources/jllm/template/stmt-fuzz.json"
N = 2500
TEXTS = ["\n", "  ", "\t", "x", " y ", "\n  \n", "a\n", "\n    ", "  \n", "b", "\n\n", " \t "]
CONDS = ["t", "not t", "n > 3", "x is defined", "loop is defined", "ns.k", "'a' in s", "items|length > 1"]
OUTS = ["n", "s", "x", "loop.index if loop is defined else '-'", "ns.k", "items", "i", "v", "n ~ '!'", "caller is defined",
        "loop.first if loop is defined", "loop.previtem|default('^') if loop is defined", "loop.cycle('o', 'e') if loop is defined",
        "loop.depth if loop is defined", "a|default('-')", "b|default('-')", "varargs|default('-')", "ns.c", "p ~ q",
        "x ~ v ~ i", "loop.length if loop is defined", "loop.revindex if loop is defined", "loop.nextitem|default('$') if loop is defined"]
CTX = {"t": True, "n": 5, "s": "abc", "items": [1, 2, 3], "d": {"p": 1, "q": 2}}


def mark(r, allow_plus):
    return r.choice(["", "", "-", "+"] if allow_plus else ["", "", "-"])


def tag(r, body):
    return "{%" + mark(r, True) + " " + body + " " + mark(r, True) + "%}"


def block(r, depth):
    parts = []
    for _ in range(r.randint(1, 4)):
        k = r.random()
        if k < 0.30 or depth <= 0:
            parts.append(r.choice(TEXTS))
        elif k < 0.45:
            parts.append("{{" + mark(r, False) + " " + r.choice(OUTS) + " " + mark(r, False) + "}}")
        elif k < 0.55:
            parts.append(tag(r, "if " + r.choice(CONDS)) + block(r, depth - 1)
                         + (tag(r, "else") + block(r, depth - 1) if r.random() < 0.5 else "") + tag(r, "endif"))
        elif k < 0.65:
            body = block(r, depth - 1)
            if r.random() < 0.3:
                body += tag(r, "if loop.index == 2") + tag(r, r.choice(["break", "continue"])) + tag(r, "endif")
            parts.append(tag(r, "for i in " + r.choice(["items", "range(2)", "s", "d", "[]"])
                             + r.choice(["", " if i != 2"])) + body
                         + (tag(r, "else") + block(r, depth - 1) if r.random() < 0.3 else "") + tag(r, "endfor"))
        elif k < 0.72:
            parts.append(tag(r, "set " + r.choice(["x", "v", "ns.k"]) + " = " + r.choice(["n + 1", "s", "'q'", "x|default(0)"])))
        elif k < 0.77:
            parts.append(tag(r, "set v") + block(r, depth - 1) + tag(r, "endset"))
        elif k < 0.83:
            parts.append("{#" + mark(r, True) + r.choice([" c ", "\n", " {{ x }} "]) + mark(r, True) + "#}")
        elif k < 0.87:
            parts.append(tag(r, "raw") + r.choice(["{{ x }}", " {% if %} ", "\n  a\n"]) + tag(r, "endraw"))
        elif k < 0.93:
            parts.append(tag(r, "macro m(a, b=2)") + block(r, depth - 1) + tag(r, "endmacro")
                         + "{{" + mark(r, False) + " m(" + r.choice(["1", "n", "x|default(3)"]) + ") " + mark(r, False) + "}}")
        elif k < 0.97:
            parts.append(tag(r, "filter " + r.choice(["upper", "trim", "replace('a', 'A')"])) + block(r, depth - 1) + tag(r, "endfilter"))
        elif k < 0.975:
            parts.append(tag(r, "macro w()") + "<{{ caller() }}>" + tag(r, "endmacro") + tag(r, "call w()") + block(r, depth - 1)
                         + tag(r, "endcall"))
        else:
            parts.append(r.choice([
                tag(r, "set p, q = 1, 'two'"),
                tag(r, "set ns.c = ns.c + 1"),
                tag(r, "with x = 'w'") + block(r, depth - 1) + tag(r, "endwith"),
                tag(r, "for i in [[1, [2]], [3, []]] recursive") + "{{ i[0] }}" + tag(r, "if i[1]") + "({{ loop(i[1:]) }})" + tag(r, "endif") + tag(r, "endfor"),
                tag(r, "macro e(a) ") + "{{ a }}{{ varargs }}{{ kwargs }}" + tag(r, "endmacro") + "{{ e(1, 2, z=3) }}",
                tag(r, "macro c2(xs)") + tag(r, "for y in xs") + "{{ caller(y) }}" + tag(r, "endfor") + tag(r, "endmacro")
                + tag(r, "call(v) c2(items)") + block(r, depth - 1) + "[{{ v }}]" + tag(r, "endcall"),
                tag(r, "for k, val in d.items()") + "{{ k }}={{ val }}" + block(r, depth - 1) + tag(r, "endfor"),
            ]))
    return "".join(parts)


def main():
    r = random.Random(7)
    env = environment()
    cases, seen = [], set()
    while len(cases) < N:
        src = tag(r, "set ns = namespace(k=false, c=0)") + r.choice(TEXTS) + block(r, 3) + r.choice(["", "\n", "\n\n"])
        if src in seen:
            continue
        seen.add(src)
        case = {"template": src}
        try:
            case["rendered"] = env.from_string(src).render(**copy.deepcopy(CTX))
        except Exception as ex:
            case["error"] = type(ex).__name__ + ": " + str(ex)
        cases.append(case)
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump({"context": CTX, "cases": cases}, fh, ensure_ascii=False, indent=0)
        fh.write("\n")
    print(f"wrote {len(cases)} cases ({sum('error' in c for c in cases)} errors) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
