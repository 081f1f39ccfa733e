#!/usr/bin/env bash
# NRAM's Table 1 (Kurach et al. 2016) from the stdlib tape tasks: for each
# task, `synth learn` trains K seeds (both cores), then `synth eval --json`
# scores the kept machine at the task's test sizes (2x and 5x the training
# complexity, and 1,000 for the easy tasks), fuzzy and discrete.
#
#   bench/nram_table1.sh [TASK..]        (default: the ten tasks)
#   SEEDS=16 STEPS=10000 GIVE_UP=20 OUT=runs/table1 bench/nram_table1.sh copy
#   EXTRA="--set controller=lstm" OUT=runs/table1-lstm bench/nram_table1.sh swap
#
# Each task leaves runs/table1/nram_TASK/ (checkpoint, metrics.jsonl,
# plots), learn.txt (the training log, with seeds converged out of K) and
# eval.json.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-16}
STEPS=${STEPS:-10000}
GIVE_UP=${GIVE_UP:-20}
OUT=${OUT:-runs/table1}
EXTRA=${EXTRA:-}
tasks=("$@")
if [ ${#tasks[@]} -eq 0 ]; then
  tasks=(access increment copy reverse swap permutation listk listsearch merge walkbst)
fi
cargo build --release --quiet
synth=target/release/synth
mkdir -p "$OUT"
for t in "${tasks[@]}"; do
  dir="$OUT/nram_$t"
  start=$(date +%s)
  "$synth" learn "nram_$t" --out "$dir" --force --quiet --steps "$STEPS" \
    --set seeds="$SEEDS" --set give_up="$GIVE_UP" --set enough=0 $EXTRA > "$OUT/nram_$t.learn.txt" 2>&1 || true
  end=$(date +%s)
  echo "nram_$t: trained in $((end - start)) s"
  "$synth" eval "nram_$t" --model "$dir" --json > "$OUT/nram_$t.eval.json" 2>&1 || true
done
