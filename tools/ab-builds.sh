#!/usr/bin/env bash
# Decode speed of two frozen builds (tools/freeze-jllm.sh) on one model, alternating which goes first each round.
#   tools/ab-builds.sh ROUNDS MODEL.gguf A_DIR B_DIR [extra jllm bench args]
# Prints one line per run (round, build, tg tok/s), then per round B / A and the median of those ratios.
# Whole runs alternate, so on a VM whose memory bandwidth drifts both builds see the same minutes.
set -euo pipefail
R="$1"; M="$2"; A="$3"; B="$4"; shift 4
OUT="$(mktemp)"
for r in $(seq "$R"); do
  if (( r % 2 )); then order="$A $B"; else order="$B $A"; fi
  for d in $order; do
    cat "$M" > /dev/null
    tg=$("$d/jllm" bench --model "$M" --threads 2 --prompt 1 --gen 64 --reps 3 "$@" 2>&1 | grep -o 'tg_tok_s=[0-9.]*' | cut -d= -f2)
    echo "$r $d $tg" | tee -a "$OUT"
  done
done
python3 - "$OUT" "$A" "$B" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
a, b = sys.argv[2], sys.argv[3]
by = {}
for r, d, v in rows: by.setdefault(r, {})[d] = float(v)
ratios = [by[r][b] / by[r][a] for r in by if a in by[r] and b in by[r]]
print("B / A per round:", " ".join("%.3f" % x for x in ratios), " median %.3f" % statistics.median(ratios))
PY
rm -f "$OUT"
