#!/usr/bin/env bash
# The Mobile Risk API's event stream under load, measured from outside the server process.
# Usage: benchmarks/mra-stream.sh [sqlite|postgres] [CLIENTS] [SECONDS] [CONNECTIONS] [DEVICES]
#   While wrk drives threat-opening check-ins (benchmarks/ingest/threats.lua: every check-in opens or
#   resolves a HIGH threat, two events each), CLIENTS stream clients (`openmtd bench stream`) read
#   /mra/stream/v2/events; each reports delivery latency (arrival minus the event's created_time)
#   and events per second. Server memory is read with no client and with CLIENTS idle clients.
#   postgres uses $BENCH_POSTGRES_URL (default postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_bench, recreated).
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}; clients=${2:-1}; seconds=${3:-20}; connections=${4:-8}; devices=${5:-1000}
port=8098; out=benchmarks/out/mra-stream-$database; password=bench-password-123
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
. benchmarks/lib.sh
bench_setup "$database" "$port" "$out"
OPENMTD_ADMIN_PASSWORD=$password OPENMTD_ACTIVATIONS_PER_MINUTE=100000000 OPENMTD_MRA_STREAMS_PER_KEY=1000 \
  .build/release/openmtd "${args[@]}" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
python3 benchmarks/ingest/fleet.py "http://127.0.0.1:$port" "$password" "$devices" "$out"
token=$(python3 benchmarks/mra/token.py "http://127.0.0.1:$port" "$password")
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
idle_before=$(rss)
# Memory per client: CLIENTS idle streams for a few seconds.
.build/release/openmtd bench stream --url "http://127.0.0.1:$port" --token "$token" --clients "$clients" --seconds 6 --json > "$out/idle.json" &
idle=$!
sleep 4
idle_with=$(rss)
wait $idle
echo "server RSS: $idle_before kB without clients, $idle_with kB with $clients idle clients: $(( (idle_with - idle_before) / clients )) kB per client"
# Under load: clients connect first, the check-ins start a second later and stop before the clients do.
.build/release/openmtd bench stream --url "http://127.0.0.1:$port" --token "$token" --clients "$clients" --seconds "$((seconds + 4))" > "$out/stream.txt" &
bench=$!
sleep 1
CREDENTIALS="$out/credentials.txt" BODY="$out/checkin-delta.json" THREADS=2 \
  INSTALL_BODY="$out/checkin-install.json" REMOVE_BODY="$out/checkin-remove.json" \
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benchmarks/ingest/threats.lua "http://127.0.0.1:$port" > "$out/wrk.txt"
wait $bench
grep -E "Requests/sec|99%" "$out/wrk.txt" | sed 's/^/check-ins: /'
echo "server RSS under load: $(rss) kB"
cat "$out/stream.txt"
