#!/usr/bin/env python3
"""Generates template/src/test/resources/jllm/template/expr-fuzz.json: seeded random jinja2 expressions
over Python values (operators, filters, tests, methods, slices), rendered by jinja2 configured like
transformers. Differential test data for ExprFuzzTest; deterministic (fixed seed).

Run from the repository root:  python3 tools/gen_expr_fuzz.py
"""
import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gen_jinja_cases import _compile_jinja_template as environment  # noqa: E402

OUT = "template/src/test/resources/jllm/template/expr-fuzz.json"
N = 4000

# Most operands are variables: jinja2 folds constant subexpressions at compile time, where a failing
# slice quietly becomes Undefined; runtime semantics are what templates see, so literals are rarer.
VALUES = {"v_zero": 0, "v_one": 1, "v_neg": -3, "v_seven": 7, "v_half": 2.5, "v_fzero": 0.0, "v_fneg": -1.25, "v_big": 1e20,
          "v_true": True, "v_false": False, "v_none": None, "v_ab": "ab", "v_empty": "", "v_words": "A b c", "v_pad": " x ",
          "v_cjk": "日本", "v_list": [1, 2], "v_nil": [], "v_strs": ["b", "a"], "v_dict": {"a": 1, "b": [2]}, "v_edict": {},
          "n": 42, "s": "Hello World", "l": [3, "x", None, 1.5], "d": {"k": "v", "a": [1, 2]}, "f": -0.5, "e": ""}
ATOMS = list(VALUES) + ["u", "1", "'ab'", "2.5", "none", "true", "(1, 'x')"]
BINOPS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"]
FILTERS = ["length", "first", "last", "string", "int", "float", "abs", "list", "upper", "lower", "trim", "join", "join('-')",
           "tojson", "tojson(indent=1)", "default('d')", "default('d', true)", "reverse|list", "sort", "unique|list", "sum",
           "min", "max", "round", "round(1)", "capitalize", "title", "items|list", "dictsort", "count", "wordcount",
           "batch(2)|list", "map('string')|list", "select|list", "reject('none')|list", "center(6)", "indent(2)",
           "replace('a', 'z')", "truncate(4, leeway=0)", "e", "safe", "pprint", "attr('a')", "selectattr('a')|list",
           "map(attribute='a')|list", "slice(2)|list", "dictsort(by='value')"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "sequence", "iterable",
         "odd", "even", "true", "false", "boolean", "callable", "eq 1", "in [1, 'ab']", "divisibleby 2", "gt 0", "lower", "upper"]
METHODS = [".upper()", ".strip()", ".split()", ".split('b')", ".startswith('a')", ".endswith('b')", ".replace('a', 'q')",
           ".title()", ".find('b')", ".count('a')", ".get('a')", ".get('z', 0)", ".items()|list", ".keys()|list", ".values()|list",
           ".index(1)", ".lstrip()", ".rstrip('c')", ".capitalize()", ".isdigit()", ".format(1)", ".join(['1', '2'])"]
METHODS += [".format(v_half)", ".zfill(5)", ".center(7, '*')", ".rjust(4)", ".ljust(4)", ".partition(' ')",
            ".rpartition('b')", ".splitlines()", ".rsplit(' ', 1)", ".removeprefix('a')", ".swapcase()", ".isalnum()",
            ".isspace()", ".istitle()", ".rfind('a')", ".index('b')", ".strip('ab')", ".split(None, 1)", ".lower()",
            ".endswith(('b', 'c'))", ".copy()", ".count(2)", ".is_integer()", ".real"]
FILTERS += ["format(1)", "string|length", "int(base=16)", "float(1)", "round(2, 'floor')", "sort(attribute='a')",
            "min(attribute='a')", "tojson(sort_keys=true)", "tojson(separators=(',', ':'))", "truncate(5)",
            "unique(attribute='a')|list", "batch(3, 0)|list", "sum(start=1)", "join(attribute='a')", "indent(first=true)",
            "indent('> ', blank=true)", "wordcount", "striptags", "title", "lower|list", "items|list", "dictsort(true)",
            "reject('string')|list", "select('odd')|list", "map('upper')|list", "selectattr('a', 'defined')|list",
            "rejectattr('a', 'none')|list", "map('default', 9)|list", "attr('real')", "first|default('z')",
            "list|last", "sort(reverse=true)|first", "groupby('a')|map(attribute='grouper')|list"]
FORMATS = ["'%s-%s' % ({a}, {b})", "'%d' % {a}", "'%.3g' % {a}", "'%r' % ({a},)", "'%5s|%-5s|' % ({a}, {b})",
           "'%x' % {a}", "'%05.1f' % {a}", "'%%%s' % ({a},)", "'%(a)s' % {a}", "'%c' % {a}", "'%+d' % {a}",
           "'%e' % {a}", "'{{}}|{{}}'.format({a}, {b})", "'{{:>6}}'.format({a})", "'{{:.2%}}'.format({a})",
           "'{{!r:>8}}'.format({a})", "'{{0}}{{0}}'.format({a})", "'{{:,}}'.format({a})", "'{{:^7.2f}}'.format({a})",
           "'{{:+}}'.format({a})", "'{{:x}}'.format({a})", "'{{:08.3f}}'.format({a})", "'{{:e}}'.format({a})",
           "'{{:g}}'.format({a})", "'{{:.3}}'.format({a})", "'{{a}}'.format(a={a})", "'{{:s}}'.format({a})",
           "'{{:d}}'.format({a})", "'{{:<4}}|'.format({a})", "'{{:05}}'.format({a})"]
SUBSCRIPTS = ["[0]", "[-1]", "[1:]", "[::-1]", "[:1]", "['a']", ".a", "[5]", "[::2]", "[-2:]"]


def expr(r, depth):
    if depth <= 0 or r.random() < 0.25:
        return r.choice(ATOMS)
    k = r.random()
    if k < 0.30:
        return f"({expr(r, depth - 1)} {r.choice(BINOPS)} {expr(r, depth - 1)})"
    if k < 0.50:
        return f"({expr(r, depth - 1)}|{r.choice(FILTERS)})"
    if k < 0.60:
        return f"({expr(r, depth - 1)} is {r.choice(['', 'not '])}{r.choice(TESTS)})"
    if k < 0.70:
        return f"({expr(r, depth - 1)}){r.choice(METHODS)}"
    if k < 0.80:
        inner = expr(r, depth - 1)
        while "v_" not in inner and inner not in VALUES:
            inner = expr(r, depth - 1)
        return f"({inner}){r.choice(SUBSCRIPTS)}"
    if k < 0.84:
        return "(" + r.choice(FORMATS).format(a=expr(r, depth - 1), b=expr(r, depth - 1)) + ")"
    if k < 0.88:
        return f"(not {expr(r, depth - 1)})"
    if k < 0.93:
        return f"(-{expr(r, depth - 1)})"
    return f"({expr(r, depth - 1)} if {expr(r, depth - 1)} else {expr(r, depth - 1)})"


CTX = VALUES


def main():
    r = random.Random(20260115)
    env = environment()
    cases = []
    seen = set()
    while len(cases) < N:
        src = "{{ " + expr(r, 3) + " }}"
        if src in seen:
            continue
        seen.add(src)
        case = {"template": src}
        try:
            out = env.from_string(src).render(**copy.deepcopy(CTX))
            if "object at 0x" in out or "<function" in out or "<built-in" in out or "<bound method" in out:
                continue  # Python reprs with memory addresses cannot be reproduced
            case["rendered"] = out
        except Exception as ex:
            case["error"] = type(ex).__name__ + ": " + str(ex)
        cases.append(case)
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump({"context": CTX, "cases": cases}, fh, ensure_ascii=False, indent=0)
        fh.write("\n")
    print(f"wrote {len(cases)} cases ({sum('error' in c for c in cases)} errors) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
