#!/usr/bin/env bash
# NPI on a digit task with few training traces, drawn at random or picked
# for coverage (`sampling`, docs/npi.md "Coverage"): for each seed,
# `synth learn` trains one model, then `synth eval --json` scores it
# closed-loop at SIZES. Runs PARALLEL seeds at a time, one thread each.
#
#   bench/npi_sampling.sh [TASK]                          (default: add)
#   SAMPLING=coverage TRACES=128 SEEDS="0 1 2 3" bench/npi_sampling.sh add
#   SAMPLING=random TRACES=128 SEEDS="0 1" SIZES=100,1000,3000 COUNT=8 bench/npi_sampling.sh add
#   OBSERVE=decisions SAMPLING=coverage TRACES=64 SEEDS="0 1 2 3" bench/npi_sampling.sh add
#
# OBSERVE (`all` or `decisions`) sets the model's `observe`.
# Each seed leaves OUT/TASK-OBSERVE-SAMPLING-TRACES-seedS/ (checkpoint, metrics,
# plots), .learn.txt (the training log, with the coverage line) and
# .eval.json.
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-add}
SEEDS=${SEEDS:-0}
SAMPLING=${SAMPLING:-coverage}
TRACES=${TRACES:-128}
OBSERVE=${OBSERVE:-all}
SIZES=${SIZES:-100,1000,3000}
COUNT=${COUNT:-16}
PARALLEL=${PARALLEL:-2}
OUT=${OUT:-runs/npi-sampling}
[ -n "${SYNTH:-}" ] || cargo build --release --quiet
synth=${SYNTH:-target/release/synth}
mkdir -p "$OUT"
one() {
  local s=$1
  local name
  name="$(basename "$task" .npl)-$OBSERVE-$SAMPLING-$TRACES-seed$s"
  local start end
  start=$(date +%s)
  "$synth" learn "$task" --out "$OUT/$name" --force --quiet --seed "$s" --threads 1 --traces "$TRACES" --set "sampling=$SAMPLING" --set "observe=$OBSERVE" > "$OUT/$name.learn.txt" 2>&1 || true
  end=$(date +%s)
  "$synth" eval "$task" --model "$OUT/$name" --sizes "$SIZES" --count "$COUNT" --threads 1 --json > "$OUT/$name.eval.json" 2>&1 || true
  local acc stop
  acc=$(python3 -c "import json; r=json.load(open('$OUT/$name.eval.json'))['results']; print(' '.join('%d:%d/%d' % (x['size'], x['exact'], x['count']) for x in r))" 2>/dev/null || echo "no eval")
  stop=$(grep -m1 -E "converged|did not converge|stopped" "$OUT/$name.learn.txt" | sed 's/^ *//' || true)
  echo "$name: $(grep -m1 -E '^(coverage|warning):' "$OUT/$name.learn.txt" || true); trained in $((end - start)) s ($stop); exact $acc"
}
running=0
for s in $SEEDS; do
  one "$s" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait
