#!/usr/bin/env bash
# Server memory with a 100,000-device fleet on SQLite: seed the fleet, then check every device in
# over HTTP with wrk and read the server's resident memory.
# Usage: benchmarks/memory-100k.sh [DEVICES] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-100000}; seconds=${2:-60}; port=8096; out=benchmarks/out/memory; password=bench-password-123
swift build -c release --product openmtd >&2
rm -rf "$out"; mkdir -p "$out"
start() {
  OPENMTD_ADMIN_PASSWORD=$password .build/release/openmtd serve --port "$port" --data-dir "$out/data" > "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
}
start; kill "$server"; wait "$server" || true
python3 benchmarks/ingest/seed.py "$out/data/openmtd.sqlite" "$devices" "$out"
python3 benchmarks/ingest/fleet.py --body-only "$out"
start
trap 'kill $server 2>/dev/null || true' EXIT
echo "server RSS at start with $devices devices: $(grep VmRSS /proc/$server/status)"
CREDENTIALS="$out/credentials.txt" BODY="$out/checkin-delta.json" THREADS=2 \
  wrk -t2 -c32 -d"${seconds}s" --latency -s benchmarks/ingest/checkin.lua "http://127.0.0.1:$port" | tee "$out/wrk.txt"
echo "server RSS after checking in $devices devices: $(grep VmRSS /proc/$server/status)"
start_list=$(date +%s%N)
token=$(curl -s -XPOST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"admin@openmtd.local\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for path in "/api/v1/devices?pageSize=50" "/api/v1/devices?platform=ANDROID&security=SECURE&pageSize=50&page=100" "/api/v1/threats?status=OPEN"; do
  curl -s -o /dev/null -w "GET $path: %{time_total}s\n" -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path"
done
echo "server RSS at the end: $(grep VmRSS /proc/$server/status)"
