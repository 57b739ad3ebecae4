#!/usr/bin/env bash
# Server time of console pages with a large fleet on SQLite (release build): seeds DEVICES devices
# (a tenth with an open stalkerware threat, spread over 14 days), logs in like a browser and times
# each page five times; prints the median and the slowest.
# Usage: benchmarks/console.sh [DEVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-10000}; port=8097; out=benchmarks/out/console; password=bench-password-123
swift build -c release --product openmtd >&2
rm -rf "$out"; mkdir -p "$out"
start() {
  OPENMTD_ADMIN_PASSWORD=$password .build/release/openmtd serve --port "$port" --data-dir "$out/data" > "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
}
start; kill "$server"; wait "$server" || true
python3 benchmarks/ingest/seed.py "$out/data/openmtd.sqlite" "$devices" "$out" >&2
python3 - "$out/data/openmtd.sqlite" <<'PY'
import sqlite3, sys, time, uuid, random
db = sqlite3.connect(sys.argv[1])
random.seed(4)
rows = db.execute("SELECT id, enterprise_id FROM devices").fetchall()
now = time.time()
threats = []
for device, enterprise in rows[: len(rows) // 10]:
    detected = now - random.random() * 14 * 86400
    threats.append((str(uuid.uuid4()).upper(), enterprise, device, "SURVEILLANCEWARE", "com.apspy.app", "APPLICATION", "HIGH", "OPEN",
                    "seed", '{"subject":"com.apspy.app","source":"seed"}', detected, None, None, detected))
db.executemany("INSERT INTO threats (id, enterprise_id, device_id, classification, subject, type, severity, status, fingerprint, evidence, detected_at, resolved_at, status_reason, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", threats)
db.execute("UPDATE devices SET security_status = 'THREATS_HIGH' WHERE id IN (SELECT device_id FROM threats)")
db.commit()
print(f"seeded {len(threats)} open threats", file=sys.stderr)
PY
start
trap 'kill $server 2>/dev/null || true' EXIT
jar="$out/cookies"
csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/console/login" | grep -o 'name="_csrf" value="[^"]*"' | cut -d'"' -f4)
curl -s -c "$jar" -b "$jar" -o /dev/null -X POST "http://127.0.0.1:$port/console/login" \
  --data-urlencode "email=admin@openmtd.local" --data-urlencode "password=$password" --data-urlencode "_csrf=$csrf"
for path in "/console" "/console/devices" "/console/devices?platform=ANDROID&security=SECURE&page=100" "/console/devices?q=user99" \
            "/console/threats?status=OPEN" "/console/apps"; do
  times=$(for _ in 1 2 3 4 5; do curl -s -b "$jar" -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$port$path"; done | sort -n)
  status=$(curl -s -b "$jar" -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port$path")
  echo "$path ($status): median $(echo "$times" | sed -n 3p) s, slowest $(echo "$times" | tail -1) s"
done
