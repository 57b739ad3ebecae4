#!/usr/bin/env bash
# The protective resolver against unbound on this machine, same origin, same query mix, warm cache.
#  - UDP throughput: dnsperf against `openmtd serve --dns-udp-port` and against unbound as a
#    caching forwarder, both forwarding to one dnsmasq that answers every name (no internet).
#  - Cache-hit latency: dnsperf -v at a fixed rate, per-query latencies → p50 / p99.
#  - DoH throughput: h2load over HTTP/2 (TLS, self-signed) with GET ?dns= queries.
#  - Decision and codec cost per query: `openmtd bench dns` (one core).
# Usage: benchmarks/dns.sh [SECONDS]   (release build; figures in benchmarks/out/dns/summary.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
seconds=${1:-15}; port=8099; origin=53591; ours=53592; theirs=53593; out=benchmarks/out/dns
for tool in dnsperf dnsmasq unbound h2load openssl; do
  command -v "$tool" >/dev/null || { echo "dns.sh needs $tool (apt-get install dnsperf dnsmasq unbound nghttp2-client openssl)" >&2; exit 1; }
done
bench_setup sqlite "$port" "$out"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# Origin: every name is 192.0.2.1 (A), answered at once.
dnsmasq --no-daemon --no-resolv --no-hosts --port "$origin" --listen-address 127.0.0.1 --bind-interfaces \
  --address=/#/192.0.2.1 --local-ttl=3600 --cache-size=0 > "$out/dnsmasq.log" 2>&1 &
pids+=($!)

# unbound as a caching forwarder to the same origin, two threads like our two cores.
cat > "$out/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $theirs
  num-threads: 2
  so-reuseport: yes
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "$PWD/$out"
  pidfile: ""
  logfile: ""
  use-syslog: no
  verbosity: 0
  msg-cache-size: 64m
  rrset-cache-size: 128m
  module-config: "iterator"
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$origin
EOF
unbound -d -c "$out/unbound.conf" > "$out/unbound.log" 2>&1 &
pids+=($!)

# Our server, with TLS for DoH over HTTP/2.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/key.pem" -out "$out/cert.pem" -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
OPENMTD_ADMIN_PASSWORD=bench-password-123 .build/release/openmtd "${args[@]}" --tls-certificate "$out/cert.pem" --tls-key "$out/key.pem" \
  --dns-udp-port "$ours" --dns-tcp-port "$ours" --dns-upstream "udp://127.0.0.1:$origin" > "$out/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -skf "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done

# The query mix: 2,000 names, 10 % under shipped indicators (blocked by OpenMTD; unbound resolves them).
python3 - "$out" "$port" <<'EOF'
import base64, random, struct, sys
out, port = sys.argv[1], sys.argv[2]
random.seed(7)
benign = ["example.com", "apple.com", "icloud.com", "googleapis.com", "microsoft.com", "office365.com", "whatsapp.net", "github.com", "akamaiedge.net"]
flagged = ["000.9.009.09.ekurbani.com", "1topspy.com", "21457452org.weebly.com"]
labels = ["www", "api", "img", "login", "m", "static", "edge-7", "eu-west-1"]
names = []
for i in range(2000):
    if i % 10 == 0:
        names.append(f"{random.choice(labels)}.{flagged[i // 10 % len(flagged)]}")
    else:
        names.append(".".join([random.choice(labels) for _ in range(random.randint(0, 2))] + [f"n{i}", random.choice(benign)]))
with open(f"{out}/queries.txt", "w") as f:
    for name in names: f.write(f"{name} A\n")
def query(name, qid):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1)
with open(f"{out}/doh-uris.txt", "w") as f:
    for name in names[:500]:
        f.write(f"https://127.0.0.1:{port}/dns-query?dns=" + base64.urlsafe_b64encode(query(name, 0)).decode().rstrip("=") + "\n")
EOF

run_dnsperf() { # target port label
  dnsperf -s 127.0.0.1 -p "$1" -d "$out/queries.txt" -l 3 -c 4 -q 200 >/dev/null 2>&1 || true   # warm the cache
  dnsperf -s 127.0.0.1 -p "$1" -d "$out/queries.txt" -l "$seconds" -c 4 -T 2 -q 400 > "$out/dnsperf-$2.txt" 2>&1
  awk '/Queries per second/ {print $4}' "$out/dnsperf-$2.txt"
}

latency() { # port label → "p50 p99" in ms at 2,000 queries/s, after a warm-up pass over every name
  dnsperf -s 127.0.0.1 -p "$1" -d "$out/queries.txt" -n 2 -c 1 -q 50 >/dev/null 2>&1 || true
  dnsperf -s 127.0.0.1 -p "$1" -d "$out/queries.txt" -l 5 -c 1 -q 10 -Q 2000 -v > "$out/latency-$2.txt" 2>&1 || true
  awk '$1 == ">" && ($2 == "NOERROR" || $2 == "NXDOMAIN") {print $NF}' "$out/latency-$2.txt" | sort -g |
    awk '{v[NR]=$1} END {if (NR == 0) {print "n/a n/a"; exit} printf "%.3f %.3f\n", v[int(NR*0.5)+1]*1000, v[int(NR*0.99)+1]*1000}'
}
read -r ours_p50 ours_p99 <<<"$(latency "$ours" openmtd)"
read -r theirs_p50 theirs_p99 <<<"$(latency "$theirs" unbound)"
ours_qps=$(run_dnsperf "$ours" openmtd)
theirs_qps=$(run_dnsperf "$theirs" unbound)

h2load -n 20000 -c 8 -m 32 -t 1 -i "$out/doh-uris.txt" -H "accept: application/dns-message" >/dev/null 2>&1 || true   # warm
h2load -n 200000 -c 8 -m 32 -t 1 -i "$out/doh-uris.txt" -H "accept: application/dns-message" > "$out/h2load.txt" 2>&1 || true
doh_rps=$(awk '/finished in/ {print $4}' "$out/h2load.txt" | tr -d ',')
doh_ok=$(awk '/status codes:/ {print $3}' "$out/h2load.txt")

.build/release/openmtd bench dns --json > "$out/bench-dns.json" 2>"$out/bench-dns.log"

{
  echo "UDP, warm cache, blocking on: OpenMTD $ours_qps queries/s; unbound (caching forwarder, 2 threads) $theirs_qps queries/s"
  python3 -c "import sys; a, b = float(sys.argv[1] or 0), float(sys.argv[2] or 1); print(f'ratio OpenMTD / unbound: {a / b:.2f}')" "$ours_qps" "$theirs_qps"
  echo "cache-hit latency at 2,000 queries/s (client to answer, loopback): OpenMTD p50 $ours_p50 ms, p99 $ours_p99 ms; unbound p50 $theirs_p50 ms, p99 $theirs_p99 ms"
  echo "DoH over HTTP/2 (h2load, 8 connections x 32 streams, GET): $doh_rps requests/s, $doh_ok answered 2xx"
  echo "decision and codec per query (openmtd bench dns): $(cat "$out/bench-dns.json")"
} | tee "$out/summary.txt"
