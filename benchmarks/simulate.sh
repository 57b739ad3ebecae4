#!/usr/bin/env bash
# One simulator process against `openmtd serve` (release, SQLite, built-in UEM): N devices enrolled
# in the UEM and configured from it, then check-ins at RATE per second for SECONDS.
# Usage: benchmarks/simulate.sh [DEVICES] [RATE] [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-2000}; rate=${2:-1200}; seconds=${3:-30}; concurrency=${4:-64}; port=8096; out=benchmarks/out/simulate
swift build -c release --product openmtd >&2
rm -rf "$out"; mkdir -p "$out"
printf 'activationAttemptsPerMinute: 100000000\n' > "$out/config.yaml"
OPENMTD_ADMIN_PASSWORD=bench-password-123 OPENMTD_UEM_ADMIN_PASSWORD=uem-bench-password-1 \
  .build/release/openmtd serve --port "$port" --data-dir "$out/data" --config "$out/config.yaml" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
tenant=$(sed -n 's/^uem_tenant_code: //p' "$out/data/first-start-secrets.txt")
OPENMTD_ADMIN_PASSWORD=bench-password-123 OPENMTD_UEM_PASSWORD=uem-bench-password-1 \
  /usr/bin/time -v .build/release/openmtd simulate --server "http://127.0.0.1:$port" --uem-tenant-code "$tenant" \
  --devices "$devices" --rate "$rate" --duration "${seconds}s" --concurrency "$concurrency" --json 2> "$out/simulate.err" | tee "$out/summary.json"
grep -E "agents take|Maximum resident" "$out/simulate.err" >&2
