#!/usr/bin/env bash
# Threat-to-access-removal latency through the built-in UEM, N devices changing at once.
# Usage: benchmarks/uem-latency.sh [DEVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}; port=8095; out=benchmarks/out/uem-latency
swift build -c release --product openmtd >&2
rm -rf "$out"; mkdir -p "$out"
printf 'uemDeviceSyncSeconds: 2\nactivationAttemptsPerMinute: 100000000\n' > "$out/config.yaml"
OPENMTD_ADMIN_PASSWORD=bench-password-123 OPENMTD_UEM_ADMIN_PASSWORD=uem-bench-password-1 \
  .build/release/openmtd serve --port "$port" --data-dir "$out/data" --config "$out/config.yaml" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
python3 benchmarks/uem-latency.py "http://127.0.0.1:$port" "$out/server.log" "$out/data/openmtd.sqlite" "$devices"
