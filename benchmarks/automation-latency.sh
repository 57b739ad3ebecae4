#!/usr/bin/env bash
# Event to action latency of automations (release build, SQLite or PostgreSQL).
# Usage: benchmarks/automation-latency.sh [sqlite|postgres] [EVENTS_PER_SECOND] [SECONDS] [RULES] [DEVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
database=${1:-sqlite}; rate=${2:-1000}; seconds=${3:-20}; rules=${4:-100}; devices=${5:-500}; port=8097; out=benchmarks/out/automation-latency
bench_setup "$database" "$port" "$out"
printf "activationAttemptsPerMinute: 100000000\n" > "$out/config.yaml"
OPENMTD_ADMIN_PASSWORD=bench-password-123 \
  .build/release/openmtd "${args[@]}" --config "$out/config.yaml" --egress-allow 127.0.0.0/8 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
python3 benchmarks/automation-latency.py "http://127.0.0.1:$port" "$devices" "$rate" "$seconds" "$rules"
