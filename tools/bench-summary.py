#!/usr/bin/env python3
"""Summarise tools/bench-vs-llamacpp.sh output: per file, the median over rounds of each tool's
per-run median (and the best run), and jllm / llama.cpp as the median of the per-round ratios."""
import statistics as st
import sys
from collections import defaultdict

rows = defaultdict(lambda: defaultdict(dict))  # file -> round -> tool -> (pp_best, pp_med, tg_best, tg_med)
loads = defaultdict(list)  # file -> load averages seen before its runs
for line in open(sys.argv[1]):
    w = line.rstrip("\n").split("\t")
    if len(w) < 8:
        continue
    rnd, tool, f = w[0], w[1], w[2]
    rows[f][rnd][tool] = tuple(float(v) for v in w[3:7])
    loads[f].append(float(w[8]))

print("| file | rounds | load avg | llama.cpp pp / tg | jllm pp / tg | jllm ÷ llama.cpp pp / tg (median of rounds) | best runs pp / tg |")
print("|---|---|---|---|---|---|---|")
for f, by in rows.items():
    both = [v for v in by.values() if "jllm" in v and "llama.cpp" in v]
    if not both:
        continue
    med = lambda tool, i: st.median(v[tool][i] for v in both)
    best = lambda tool, i: max(v[tool][i] for v in both)
    rpp = st.median(v["jllm"][1] / v["llama.cpp"][1] for v in both)
    rtg = st.median(v["jllm"][3] / v["llama.cpp"][3] for v in both)
    print(f"| {f} | {len(both)} | {min(loads[f]):.0f}-{max(loads[f]):.0f} | {med('llama.cpp', 1):.1f} / {med('llama.cpp', 3):.1f} | {med('jllm', 1):.1f} / {med('jllm', 3):.1f} "
          f"| {rpp:.2f} / {rtg:.2f} | {best('jllm', 0) / best('llama.cpp', 0):.2f} / {best('jllm', 2) / best('llama.cpp', 2):.2f} |")
