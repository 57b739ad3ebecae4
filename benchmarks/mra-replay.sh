#!/usr/bin/env bash
# Replay of the event log to one Mobile Risk API stream client, from the oldest retained event.
# Usage: benchmarks/mra-replay.sh [sqlite|postgres] [EVENTS]
#   Fills the log with EVENTS copies of a real DEVICE event (SQL, server stopped), restarts the
#   server and times one client reading them all (`openmtd bench stream --from-start`).
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}; events=${2:-1000000}
port=8099; out=benchmarks/out/mra-replay-$database; password=bench-password-123
. benchmarks/lib.sh
bench_setup "$database" "$port" "$out"
start() {
  OPENMTD_ADMIN_PASSWORD=$password OPENMTD_ACTIVATIONS_PER_MINUTE=100000000 .build/release/openmtd "${args[@]}" >> "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
}
start
trap 'kill $server 2>/dev/null || true' EXIT
python3 benchmarks/ingest/fleet.py "http://127.0.0.1:$port" "$password" 10 "$out" > /dev/null
token=$(python3 benchmarks/mra/token.py "http://127.0.0.1:$port" "$password")
kill $server; wait $server || true
echo "copying a DEVICE event $events times…"
copy="INSERT INTO events (enterprise_id, type, change_type, created_at, actor_type, actor_id, target_type, target_id, payload)
  SELECT e.enterprise_id, e.type, e.change_type, e.created_at, e.actor_type, e.actor_id, e.target_type, e.target_id, e.payload"
template="e.id = (SELECT MIN(id) FROM events WHERE type = 'DEVICE')"
if [ "$database" = postgres ]; then
  PGPASSWORD=openmtd psql -q -h 127.0.0.1 -U openmtd openmtd_bench -c "$copy FROM events e, generate_series(1, $events) WHERE $template"
  PGPASSWORD=openmtd psql -q -h 127.0.0.1 -U openmtd openmtd_bench -c "VACUUM ANALYZE events"
else
  python3 - "$out/data/openmtd.sqlite" <<PY
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $events)
$copy FROM events e, n WHERE $template""")
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
fi
start
.build/release/openmtd bench stream --url "http://127.0.0.1:$port" --token "$token" --from-start --clients 1 --seconds 300 --stop-after "$events" | tee "$out/replay.txt"
