#!/usr/bin/env bash
# Side-by-side parity and speed check against MVT (PyPI package `mvt`): see mvt_parity.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x benchmarks/.venv/bin/python ]; then
  python3 -m venv benchmarks/.venv
fi
benchmarks/.venv/bin/python -c "import mvt" 2>/dev/null || benchmarks/.venv/bin/pip install --quiet mvt
swift build -c release --product openmtd >&2
benchmarks/.venv/bin/python benchmarks/mvt_parity.py .build/release/openmtd
