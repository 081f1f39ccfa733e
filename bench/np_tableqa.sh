#!/usr/bin/env bash
# The Neural Programmer on the stdlib's table tasks: for each seed,
# `synth learn` trains one model (both cores), then `synth eval --json`
# scores it at the task's test sizes (answer and program accuracy, per size
# and per question). With NOISE set, every run also passes `--set
# noise=$NOISE` (the gradient-noise ablation: run once with NOISE=0 and
# once with the noise under test).
#
#   bench/np_tableqa.sh [TASK]                 (default: tableqa)
#   SEEDS="0 1 2 3" NOISE=0 STEPS=8000 COUNT=200 OUT=runs/np bench/np_tableqa.sh tableqa
#   EXTRA="--set lookup_weight=1 --set give_up=10" bench/np_tableqa.sh tableqa
#
# Each seed leaves OUT/TASK-noiseN-seedS/ (checkpoint, metrics.jsonl,
# plots), .learn.txt (the training log) and .eval.json.
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-tableqa}
SEEDS=${SEEDS:-0}
COUNT=${COUNT:-200}
OUT=${OUT:-runs/np}
[ -n "${SYNTH:-}" ] || cargo build --release --quiet
synth=${SYNTH:-target/release/synth}
mkdir -p "$OUT"
for s in $SEEDS; do
  name="$(basename "$task" .npl)-noise${NOISE:-default}-seed$s"
  extra=()
  if [ -n "${NOISE:-}" ]; then extra+=(--set "noise=$NOISE"); fi
  if [ -n "${STEPS:-}" ]; then extra+=(--steps "$STEPS"); fi
  # EXTRA: more flags for every run, e.g. EXTRA="--set lookup_weight=1".
  if [ -n "${EXTRA:-}" ]; then read -r -a more <<< "$EXTRA"; extra+=("${more[@]}"); fi
  start=$(date +%s)
  "$synth" learn "$task" --out "$OUT/$name" --force --quiet --seed "$s" --count "$COUNT" "${extra[@]}" > "$OUT/$name.learn.txt" 2>&1 || true
  end=$(date +%s)
  "$synth" eval "$task" --model "$OUT/$name" --count "$COUNT" --json > "$OUT/$name.eval.json" 2>&1 || true
  acc=$(python3 -c "import json,sys; r=json.load(open('$OUT/$name.eval.json'))['results']; print(' '.join('%d:%.3f/%.3f' % (x['size'], x['accuracy'], x['program_accuracy']) for x in r))" 2>/dev/null || echo "no eval")
  echo "$name: trained in $((end - start)) s; rows:answers/programs $acc"
done
