#!/usr/bin/env bash
# Steady-state check-in ingestion through nginx with N replicas on one PostgreSQL: run it with 1 and
# with 2 to compare. wrk replays the typical delta check-in (benchmarks/ingest) against nginx.
# Usage: benchmarks/replicas-ingest.sh [REPLICAS] [DEVICES] [SECONDS] [CONNECTIONS]
#   PostgreSQL at $BENCH_POSTGRES_SERVER (default postgres://openmtd:openmtd@127.0.0.1:5432); database openmtd_rbench is recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=${1:-2}; devices=${2:-1000}; seconds=${3:-20}; connections=${4:-32}
out=$PWD/benchmarks/out/replicas-ingest-$replicas; base_port=8130; password=bench-password-123
server=${BENCH_POSTGRES_SERVER:-postgres://openmtd:openmtd@127.0.0.1:5432}
for tool in wrk nginx psql; do command -v $tool >/dev/null || { echo "$tool is missing: apt-get install -y wrk nginx postgresql-client" >&2; exit 1; }; done
swift build -c release --product openmtd >&2
rm -rf "$out"; mkdir -p "$out"
psql "$server/postgres" -qc 'DROP DATABASE IF EXISTS openmtd_rbench WITH (FORCE)' && psql "$server/postgres" -qc 'CREATE DATABASE openmtd_rbench'
pids=()
nginx_pid=
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true; }
trap cleanup EXIT
upstreams=""
for index in $(seq 1 "$replicas"); do
  port=$((base_port + index))
  OPENMTD_ADMIN_PASSWORD=$password OPENMTD_ACTIVATIONS_PER_MINUTE=100000000 .build/release/openmtd serve --port "$port" \
    --database-url "$server/openmtd_rbench" --data-dir "$out/data-$index" --trusted-proxy 127.0.0.1 > "$out/replica-$index.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  upstreams+="    server 127.0.0.1:$port;"$'\n'
done
user=""; [ "$(id -u)" = 0 ] && user="user root;"
cat > "$out/nginx.conf" <<CONF
$user
worker_processes 1;
pid $out/nginx.pid;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $out/nginx-body; proxy_temp_path $out/nginx-proxy;
  fastcgi_temp_path $out/nginx-fastcgi; uwsgi_temp_path $out/nginx-uwsgi; scgi_temp_path $out/nginx-scgi;
  upstream openmtd {
$upstreams    keepalive 64;
  }
  server {
    listen 127.0.0.1:$base_port;
    location / {
      proxy_pass http://openmtd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
nginx -c "$out/nginx.conf" -p "$out" -e "$out/nginx-error.log" &
nginx_pid=$!
sleep 1
python3 benchmarks/ingest/fleet.py "http://127.0.0.1:$base_port" "$password" "$devices" "$out"
CREDENTIALS="$out/credentials.txt" BODY="$out/checkin-delta.json" THREADS=2 \
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benchmarks/ingest/checkin.lua "http://127.0.0.1:$base_port" | tee "$out/wrk.txt"
