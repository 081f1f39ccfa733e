#!/usr/bin/env bash
# Builds the Python package from this clone the way a user installs it
# (`pip install ./python`) into a virtual environment, then runs its tests
# (`pytest python/tests`). Exits non-zero when the build or a test fails.
#
# The environment is a new one in a temporary directory, removed at the end,
# unless SYNTH_PYTHON_VENV names one to use (created when missing, kept).
# PYTHON picks the interpreter that creates it (default: python3, 3.9+).
# SYNTH_CLI, set to a `synth` binary built from the same sources (such as
# target/release/synth), adds tests that compare every stdlib task's trace,
# graphs and check with the binary's output.
set -euo pipefail
if [ -n "${SYNTH_CLI:-}" ]; then
  SYNTH_CLI="$(realpath "$SYNTH_CLI")"
  export SYNTH_CLI
fi
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ -n "${SYNTH_PYTHON_VENV:-}" ]; then
  venv="$SYNTH_PYTHON_VENV"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  venv="$tmp/venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

"$venv/bin/python" --version
# pip builds the Rust extension with maturin (in the workspace's target/).
"$venv/bin/python" -m pip install --disable-pip-version-check ./python pytest
"$venv/bin/python" -m pytest python/tests -q
