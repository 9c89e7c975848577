#!/usr/bin/env bash
# jllm bench against llama-bench on the same GGUF files, alternating, several rounds; one TSV line per run.
#   tools/bench-vs-llamacpp.sh ROUNDS OUT.tsv FILE.gguf...      (LLAMACPP=dir of llama-bench, default /work/llamacpp/build/bin)
# Columns: round tool file pp_best pp_median tg_best tg_median load_s load_avg_before
# Each run is -p 128 -n 32, 2 threads, 3 repetitions (jllm: after one warm-up run; llama-bench warms up itself).
# Summarise with tools/bench-summary.py OUT.tsv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="$1"; OUTF="$2"; shift 2
LL="${LLAMACPP:-/work/llamacpp/build/bin}"
JARGS="${JLLM_ARGS:-}"
JLLM="${JLLM:-$ROOT/jllm}"  # a frozen copy (tools/freeze-jllm.sh) keeps edits made during a run out of it
for r in $(seq "${FIRST_ROUND:-1}" "$ROUNDS"); do  # FIRST_ROUND: continue an earlier run
  for f in "$@"; do
    # alternate which tool goes first, so neither always runs on the heels of the other
    if (( r % 2 )); then order="llama jllm"; else order="jllm llama"; fi
    for tool in $order; do
      # Both tools read the file through the page cache (llama.cpp's mapping, and jllm's F16 weights);
      # on VMs whose host pages out cold file pages (DAMON), a run after a pause would otherwise
      # start by reading part of the model from disk.
      cat "$f" > /dev/null
      la="$(cut -d' ' -f1 /proc/loadavg)"
      if [ "$tool" = llama ]; then
        # exit status 132 is SIGILL: on the Intel Xeons here a -DGGML_NATIVE=ON build uses AMX, which traps
        out="$(LD_LIBRARY_PATH="$LL" "$LL/llama-bench" -m "$f" -t 2 -p 128 -n 32 -r 3 -o jsonl 2>/dev/null)" \
          || { echo "llama-bench failed on $f (exit $?; 132 = illegal instruction: build without AMX, ../shared/docs/llamacpp.md)" >&2; exit 1; }
        printf '%s\n' "$out" | python3 -c '
import json, sys, statistics as st
pp = tg = None
for line in sys.stdin:
    j = json.loads(line); s = j["samples_ts"]
    v = (max(s), st.median(s))
    if j["n_prompt"] > 0: pp = v
    else: tg = v
print("%.2f\t%.2f\t%.2f\t%.2f\t-" % (pp[0], pp[1], tg[0], tg[1]))' | sed "s|^|$r\tllama.cpp\t$(basename "$f")\t|;s|\$|\t$la|" >>"$OUTF"
      else
        "$JLLM" bench $JARGS --model "$f" --threads 2 --prompt 128 --gen 32 --reps 3 2>&1 | python3 -c '
import sys
pp = tg = None; load = "-"
for line in sys.stdin:
    w = line.split()
    if not w: continue
    if w[0] == "load": load = w[1]
    if w[0][:2] == "pp" and w[0][2:].isdigit(): pp = (float(w[3]), float(w[4]))
    if w[0][:2] == "tg" and w[0][2:].isdigit(): tg = (float(w[3]), float(w[4]))
print("%.2f\t%.2f\t%.2f\t%.2f\t%s" % (pp[0], pp[1], tg[0], tg[1], load))' | sed "s|^|$r\tjllm\t$(basename "$f")\t|;s|\$|\t$la|" >>"$OUTF"
      fi
      tail -1 "$OUTF"
    done
  done
done
