#!/usr/bin/env bash
# Writes the CLI outputs the Python tests compare against, from the `synth`
# binary given (default: target/release/synth, from `cargo build --release`).
# Run from anywhere; paths in the outputs are relative to the repository
# root, as the tests pass them. Rerun when a format of the CLI changes.
set -uo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
synth="$(realpath "${1:-$root/target/release/synth}")"
cd "$root"
out=python/tests/data

# Succeeding commands: their standard output.
ok() { local file="$1"; shift; "$synth" "$@" > "$out/$file" || { echo "failed: synth $*" >&2; exit 1; }; }
# Failing commands (exit 1): their standard error.
fails() {
  local file="$1"; shift
  "$synth" "$@" > /dev/null 2> "$out/$file"
  [ $? -eq 1 ] || { echo "did not fail with exit 1: synth $*" >&2; exit 1; }
}

ok add_3_0.json trace add --size 3 --seed 0 --format json
ok add_3_0.txt trace add --size 3 --seed 0
ok nram_copy_3_1.json trace nram_copy --size 3 --seed 1 --format json
ok nram_copy_3_1.txt trace nram_copy --size 3 --seed 1
ok tableqa_6_3.json trace tableqa --size 6 --seed 3 --format json
ok tableqa_6_3.txt trace tableqa --size 6 --seed 3
ok add_calls.dot graph add --format dot
ok add_ops.dot graph add --ops --format dot
ok nram_copy_ops.dot graph nram_copy --ops --format dot
ok tableqa.dot graph tableqa --format dot
ok check_add.txt check add
ok check_add_sizes.txt check add --sizes 2,3 --seeds 1
fails check_three_right.stderr check python/tests/data/three_right.npl
fails trace_three_right_2.stderr trace python/tests/data/three_right.npl --size 2 --seed 0
fails syntax_error.stderr trace python/tests/data/syntax_error.npl
"$synth" trace python/tests/data/unused_program.npl --size 2 > /dev/null 2> "$out/unused_program.stderr"
echo "fixtures written to $out"
