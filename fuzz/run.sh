#!/usr/bin/env bash
# Builds the libFuzzer harnesses with -sanitize=fuzzer,address (linked with lld: gold fails on the
# sanitizer runtime's debug info) and runs each for a bounded time over its committed seed corpus
# (fuzz/corpus/NAME). New inputs go to a scratch folder, not the corpus; a crash leaves crash-* in
# benchmarks/out/fuzz/NAME and fails the run.
# Usage: fuzz/run.sh [SECONDS_PER_HARNESS (default 60)] [HARNESS…]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}; shift || true
harnesses=("$@"); [ ${#harnesses[@]} -gt 0 ] || harnesses=(FuzzCheckIn FuzzPolicy FuzzIntel FuzzSMTP FuzzDNS)
scratch=../.build-fuzz
echo "== building the harnesses (sanitizers: fuzzer, address)"
swift build -c debug --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | tail -n 5
summary=()
status=0
for name in "${harnesses[@]}"; do
  out=../benchmarks/out/fuzz/$name
  rm -rf "$out"; mkdir -p "$out/new"
  echo "== $name for ${seconds} s"
  set +e
  (cd "$out" && "$OLDPWD/$scratch/debug/$name" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=65536 \
     -print_final_stats=1 new "$OLDPWD/corpus/$name" > log.txt 2>&1)
  code=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log.txt" | grep -o '[0-9]*$' || echo 0)
  crashes=$(ls "$out" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-' || true)
  summary+=("$name: $runs executions in $seconds s, $crashes crashes, exit $code")
  if [ "$code" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    tail -n 40 "$out/log.txt" >&2
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
