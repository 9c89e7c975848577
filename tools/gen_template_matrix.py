#!/usr/bin/env python3
"""Generates template/src/test/resources/jllm/template/template-matrix.json: every real chat template
of shared/fixtures/chat-templates rendered by Python jinja2 (configured like transformers, see
gen_jinja_cases.py) over conversations the fixtures do not cover (content parts, reasoning, string
tool arguments, several tool calls, empty and unicode-heavy conversations, template kwargs).
Renderings are stored as SHA-256 + length to keep the file small; errors are stored in full.

Run from the repository root:  python3 tools/gen_template_matrix.py [FIXTURES_DIR]
"""
import hashlib
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gen_jinja_cases import _compile_jinja_template as environment  # noqa: E402

FIX = sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures"
OUT = "template/src/test/resources/jllm/template/template-matrix.json"

TOOLS = [
    {"type": "function", "function": {
        "name": "search", "description": "Search the web; returns \"snippets\" & <links>",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "what to look for"},
            "limit": {"type": "integer", "minimum": 1, "default": 5},
            "lang": {"type": "string", "enum": ["en", "fr", "日本語"]},
            "filters": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "strict": {"type": "boolean"}, "ratio": {"type": "number"}},
            "required": ["query"]}}},
    {"type": "function", "function": {"name": "now", "description": "Current time", "parameters": {"type": "object", "properties": {}}}},
]

CONVS = {
    "content_parts": [
        {"role": "system", "content": [{"type": "text", "text": "Sys part."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is in the picture?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
        {"role": "user", "content": [{"type": "text", "text": "Sure?"}, {"type": "text", "text": " Really?"}]},
    ],
    "reasoning": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4", "reasoning_content": "add them"},
        {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "6", "reasoning_content": "again"},
        {"role": "user", "content": "ok"},
    ],
    "tool_string_args": [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Find jinja docs"},
        {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "id": "call_9", "function": {
            "name": "search", "arguments": "{\"query\": \"jinja\", \"limit\": 3}"}}]},
        {"role": "tool", "tool_call_id": "call_9", "name": "search", "content": "[\"a\", \"b\"]"},
        {"role": "assistant", "content": "Found a and b."},
        {"role": "user", "content": "Thanks"},
    ],
    "multi_tool": [
        {"role": "user", "content": "Time and search?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"type": "function", "id": "a1", "function": {"name": "now", "arguments": {}}},
            {"type": "function", "id": "a2", "function": {"name": "search", "arguments": {"query": "x", "filters": [{"k": "v"}], "strict": True, "ratio": 0.5}}}]},
        {"role": "tool", "tool_call_id": "a1", "name": "now", "content": "12:00"},
        {"role": "tool", "tool_call_id": "a2", "name": "search", "content": {"results": []}},
        {"role": "assistant", "content": "Noon; nothing found."},
    ],
    "system_only": [{"role": "system", "content": "Only a system prompt."}],
    "empty": [],
    "unicode": [
        {"role": "system", "content": "  padded system \n"},
        {"role": "user", "content": "Tabs\tand\\backslashes\\n, \"quotes\" 'single', emoji 👩‍💻🇫🇷, RTL עברית, CJK 漢字, combining é, nul-ish \u0001 and {{ braces }} {% tags %}"},
        {"role": "assistant", "content": "  Reply with trailing spaces   \n\n"},
        {"role": "user", "content": ""},
    ],
    "long": [{"role": r, "content": f"turn {i} {r}"} for i, r in enumerate(["system"] + ["user", "assistant"] * 5 + ["user"])],
}

EXTRA_KWARGS = [{}, {"enable_thinking": False, "reasoning_effort": "high", "documents": [{"title": "Doc", "text": "Body"}], "custom_instructions": "Be nice."}]


def main():
    tdir = os.path.join(FIX, "chat-templates")
    names = sorted(json.load(open(os.path.join(tdir, "reference.json")))["templates"])
    env = environment()
    cases = []
    for name in names:
        tpl = env.from_string(open(os.path.join(tdir, name), encoding="utf-8").read())
        for conv in CONVS:
            for gen in (True, False):
                for tools in ((None, TOOLS) if conv in ("tool_string_args", "multi_tool") else (None,)):
                    for kw_index, extra in enumerate(EXTRA_KWARGS if conv in ("reasoning", "long") else EXTRA_KWARGS[:1]):
                        ctx = dict(messages=CONVS[conv], add_generation_prompt=gen, bos_token="<s>", eos_token="</s>", **extra)
                        if tools is not None:
                            ctx["tools"] = tools
                        case = {"template": name, "conversation": conv, "add_generation_prompt": gen,
                                "tools": tools is not None, "kwargs": kw_index}
                        try:
                            out = tpl.render(**copy.deepcopy(ctx))
                            case["sha256"] = hashlib.sha256(out.encode("utf-8")).hexdigest()
                            case["length"] = len(out)
                        except Exception as e:
                            case["error"] = type(e).__name__ + ": " + str(e)
                        cases.append(case)
    doc = {"engine": "jinja2", "now": "2026-01-15T12:00:00", "tools": TOOLS, "conversations": CONVS,
           "kwargs": EXTRA_KWARGS, "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"wrote {len(cases)} cases ({sum('error' in c for c in cases)} errors) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
