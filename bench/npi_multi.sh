#!/usr/bin/env bash
# One NPI for every stdlib scratchpad task and the pose task (docs/npi.md, "One model for
# several tasks"), then the paper's MAX on its frozen core, and each task
# scored closed-loop at its own test sizes from both checkpoints.
#
#   bench/npi_multi.sh                       # train both, then evaluate
#   SKIP_TRAIN=1 bench/npi_multi.sh          # evaluate the runs already in OUT
#   TASKS="add bubblesort" STEPS=20000 bench/npi_multi.sh
#
# Leaves OUT/multi and OUT/max (checkpoints, metrics, plots), their training
# logs (.learn.txt) and one eval JSON per task and checkpoint; prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=${TASKS:-"add sub mul_digit add_recursive increment reverse bubblesort pose_car"}
STEPS=${STEPS:-40000}
SEED=${SEED:-0}
COUNT=${COUNT:-32}
THREADS=${THREADS:-1}
EXTRA=${EXTRA:-"--set sampling=coverage --set observe=decisions --set patience=6"}
OUT=${OUT:-runs/npi-multi}
[ -n "${SYNTH:-}" ] || cargo build --release --quiet
synth=${SYNTH:-target/release/synth}
mkdir -p "$OUT"
if [ -z "${SKIP_TRAIN:-}" ]; then
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e s" "$synth" learn $TASKS --out "$OUT/multi" --force --quiet --seed "$SEED" --threads "$THREADS" --steps "$STEPS" $EXTRA > "$OUT/multi.learn.txt" 2>&1
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e s" "$synth" learn max --from "$OUT/multi" --freeze core --out "$OUT/max" --force --quiet --seed "$SEED" --threads "$THREADS" $EXTRA > "$OUT/max.learn.txt" 2>&1
fi
score() {
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' · '.join('%d: %d/%d' % (x['size'], x['exact'], x['count']) for x in r))" "$1" 2>/dev/null || echo "-"
}
printf '| task | one model for all (%s) | after MAX on the frozen core (%s) |\n| --- | --- | --- |\n' "$OUT/multi" "$OUT/max"
for t in $TASKS max; do
  for run in multi max; do
    if [ "$t" = max ] && [ "$run" = multi ]; then echo '{"results": []}' > "$OUT/$t.$run.eval.json"; continue; fi
    "$synth" eval "$t" --model "$OUT/$run" --count "$COUNT" --threads "$THREADS" --json > "$OUT/$t.$run.eval.json" 2>/dev/null || echo '{"results": []}' > "$OUT/$t.$run.eval.json"
  done
  printf '| %s | %s | %s |\n' "$t" "$(score "$OUT/$t.multi.eval.json")" "$(score "$OUT/$t.max.eval.json")"
done
