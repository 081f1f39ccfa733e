#!/usr/bin/env bash
# Builds the Python package from this clone as a wheel (`pip wheel ./python`,
# the build `pip install ./python` runs inside), installs the wheel into a
# virtual environment, then runs the tests (`pytest python/tests`). Exits
# non-zero when the build, the install or a test fails.
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
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
venv="${SYNTH_PYTHON_VENV:-$tmp/venv}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

"$venv/bin/python" --version
# pip builds the Rust extension with maturin (in the workspace's target/)
# into a wheel, as for another machine; the wheel is what gets installed.
"$venv/bin/python" -m pip wheel --disable-pip-version-check --no-deps ./python -w "$tmp/wheels"
wheel="$(ls "$tmp"/wheels/synth_npl-*.whl)"
echo "built $(basename "$wheel")"
"$venv/bin/python" -m pip install --disable-pip-version-check "$wheel" pytest
# A venv that already holds this version (SYNTH_PYTHON_VENV) gets the new build.
"$venv/bin/python" -m pip install --disable-pip-version-check --force-reinstall --no-deps "$wheel"
"$venv/bin/python" -m pytest python/tests -q
