#!/usr/bin/env bash
# Rebuilds the shipped demo model, resources/models/tiny, from scratch (about 20 s of CPU):
#   1. tools/demo/make_demo_base.py: a fresh Qwen2-layout model (hidden 128, 4 layers, ~0.63 M
#      parameters, 2.5 MB float32) with the test models' byte-level tokenizer and ChatML template;
#   2. tools/demo/make_demo_sft_data.py: 866 worked sums of the demo task ("What is a + b?",
#      a, b in 0..20, the eval questions left out) in resources/demo.json's tags;
#   3. `reflab-cli sft` with the demo recipe's system message, one epoch.
# One epoch on purpose: the model then writes <think>/<answer> blocks in about half of its
# sampled completions, so NOVER's format gate and perplexity ranks have something to teach and
# the demo's reward rises; more epochs give a model that is always well formed (flat NOVER
# reward, since its rank part is normalised within each group).
# Usage: scripts/train_demo_model.sh [OUT_DIR]   (default resources/models/tiny)
# Deterministic: one thread, fixed seeds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/resources/models/tiny}"
bin="${REFLAB_BUILD_DIR:-$root/build}/bin"
recipe="$root/resources/demo.json"
python="${PYTHON:-python3}"
# The base model is written with torch (Debian's python3-torch when the default python lacks it).
"$python" -c 'import torch' 2>/dev/null || python=/usr/bin/python3
[ -x "$bin/reflab-cli" ] || "$root/scripts/build.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" "$root/tools/demo/make_demo_base.py" "$work/base" --hidden 128 --layers 4 \
  --intermediate 256 --heads 4 --kv-heads 2 --seed 1
(cd "$root" && "$python" tools/demo/make_demo_sft_data.py "$recipe" "$work/sft.jsonl" --seed 1)
system="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["template"]["system"])' "$recipe")"
"$bin/reflab-cli" --threads 1 sft --model "$work/base" --data "$work/sft.jsonl" --out "$work/sft" \
  --system "$system" --epochs 1 --batch 16 --lr 3e-3 --schedule cosine --warmup-steps 10 --seed 1
mkdir -p "$out"
cp "$work/sft/"* "$out/"
echo "demo model written to $out"
