#!/usr/bin/env bash
# Sustained check-in ingestion, measured by wrk from outside the server process.
# Usage: benchmarks/ingest.sh [sqlite|postgres] [DEVICES] [SECONDS] [CONNECTIONS] [steady|threats]
#   steady (default) replays the steady-state delta check-in (nothing changes);
#   threats alternately installs and removes a sideloaded stalkerware app on every device, so every
#   check-in opens or resolves a HIGH threat (the transactional path).
#   postgres uses $BENCH_POSTGRES_URL (default postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_bench, recreated).
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}; devices=${2:-1000}; seconds=${3:-30}; connections=${4:-32}; mode=${5:-steady}
port=8097; out=benchmarks/out/ingest-$database; password=bench-password-123
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
. benchmarks/lib.sh
bench_setup "$database" "$port" "$out"
OPENMTD_ADMIN_PASSWORD=$password OPENMTD_ACTIVATIONS_PER_MINUTE=100000000 .build/release/openmtd "${args[@]}" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
python3 benchmarks/ingest/fleet.py "http://127.0.0.1:$port" "$password" "$devices" "$out"
echo "server RSS after enrolment: $(grep VmRSS /proc/$server/status)"
# CPU seconds used so far by every PostgreSQL process (server, backends, WAL writer, checkpointer).
postgres_cpu() {
  local ticks=0 pid
  for pid in $(pgrep -u postgres postgres || true); do
    [ -r "/proc/$pid/stat" ] && ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$ticks"
}
pg_before=$(postgres_cpu)
server_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
script=benchmarks/ingest/checkin.lua
[ "$mode" = threats ] && script=benchmarks/ingest/threats.lua
CREDENTIALS="$out/credentials.txt" BODY="$out/checkin-delta.json" THREADS=2 \
  INSTALL_BODY="$out/checkin-install.json" REMOVE_BODY="$out/checkin-remove.json" \
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port" | tee "$out/wrk.txt"
server_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
pg_after=$(postgres_cpu)
requests=$(sed -n 's/^wrk-json {"requests":\([0-9]*\).*/\1/p' "$out/wrk.txt")
hz=$(getconf CLK_TCK)
if [ -n "$requests" ] && [ "$requests" -gt 0 ]; then
  # Includes the server's background work (consumers, checkpoints) during the run.
  echo "server CPU per check-in: $(( (server_after - server_before) * 1000000 / hz / requests )) µs"
  if [ "$database" = postgres ]; then
    echo "postgres CPU per check-in: $(( (pg_after - pg_before) * 1000000 / hz / requests )) µs"
  fi
fi
if [ "$mode" = threats ]; then
  echo "threats opened / resolved by check-ins (server metrics):"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^openmtd_(threats_opened|threats_resolved|checkin_retries|checkin_locked)' || true
fi
echo "server RSS after load: $(grep VmRSS /proc/$server/status)"
