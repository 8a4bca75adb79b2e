#!/usr/bin/env bash
# The demo experiment reported in the README: each demo preset (resources/recipes/demo-*.json)
# trained from the shipped demo model into one workspace, and the held-out exact-match before ->
# after of each (the eval set's 400 problems, greedy decoding, evaluated by the trainer at step 0
# and at the last step). Prints a Markdown table, writes every run's metrics as CSV (reflab-cli
# export) and the figure of the held-out exact match of every run, drawn by RefLab's own chart
# (reflab --export-chart), beside the workspace.
# Usage: scripts/demo_experiment.sh [WORKSPACE_DIR] [PRESET...]   (default build/demo-experiment)
#   DEMO_JOBS=N runs N presets at once (one intra-op thread each; default 1). They write into the
#   one workspace side by side, as runs started from the GUI do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${REFLAB_BUILD_DIR:-$root/build}/bin"
[ -x "$bin/reflab-cli" ] || "$root/scripts/build.sh"
out="${1:-$root/build/demo-experiment}"
shift || true
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(demo-nover demo-rgr demo-rlpr demo-rubric demo-reverse demo-oracle)
jobs="${DEMO_JOBS:-1}"
mkdir -p "$out"
db="$out/workspace.db"

# One preset: train it, keep its before -> after line and its minutes in $out/$p.result.
run_preset() {
  local p=$1 start line minutes
  start=$(date +%s)
  # One intra-op thread: the demo model is tiny, and a second thread only spins.
  line=$(cd "$root" && "$bin/reflab-cli" --threads 1 train --recipe "resources/recipes/$p.json" \
           --db "$db" --name "$p" 2>"$out/$p.log" | grep '^held-out accuracy' || true)
  minutes=$(awk -v s=$(( $(date +%s) - start )) 'BEGIN { printf "%.1f", s / 60 }')
  printf '%s\t%s\n' "$minutes" "$line" > "$out/$p.result"
}

for p in "${presets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_preset "$p" &
done
wait

table="| preset | held-out exact match before | after | change | eval problems | seed | minutes |
|---|---|---|---|---|---|---|"
for p in "${presets[@]}"; do
  IFS=$'\t' read -r minutes line < "$out/$p.result"
  seed=$(sed -n 's/.*"seed": *\([0-9]*\).*/\1/p' "$root/resources/recipes/$p.json" | head -1)
  if [[ "$line" =~ held-out\ accuracy:\ ([0-9.]+)%\ -\>\ ([0-9.]+)%\ \(exact\ match,\ ([0-9]+) ]]; then
    b=${BASH_REMATCH[1]} a=${BASH_REMATCH[2]} n=${BASH_REMATCH[3]}
    d=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f", a - b }')
    table+=$'\n'"| $p | $b% | $a% | $d points | $n | $seed | $minutes |"
  else
    table+=$'\n'"| $p | failed: see $out/$p.log | | | | $seed | $minutes |"
  fi
  run=$("$bin/reflab-cli" runs --db "$db" --json | python3 -c \
        'import json, sys; print([r["id"] for r in json.load(sys.stdin) if r["name"] == sys.argv[1]][-1])' "$p")
  [ -n "$run" ] && "$bin/reflab-cli" export --db "$db" --run "$run" --what metrics --format csv \
    > "$out/$p.metrics.csv"
done
echo "$table"

# The figure, when the GUI is built: offscreen, no display needed.
if [ -x "$bin/reflab" ]; then
  show=()
  for p in "${presets[@]}"; do show+=(--show-run "$p"); done
  QT_QPA_PLATFORM=offscreen "$bin/reflab" "$db" "${show[@]}" --export-chart eval/exact_match \
    --export-to "$out/demo_eval_exact_match.png" 2>/dev/null | grep written || true
fi
echo "workspace: $db (open it with build/bin/reflab)"
