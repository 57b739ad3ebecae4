# Shared by the benchmark scripts: `bench_setup DATABASE PORT OUT` builds the release binary, empties
# OUT and sets `args` to the `openmtd serve` arguments for DATABASE (sqlite, or postgres on
# $BENCH_POSTGRES_URL, default postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_bench, recreated).
bench_setup() {
  local database=$1 port=$2 out=$3
  swift build -c release --product openmtd >&2
  rm -rf "$out"; mkdir -p "$out"
  args=(serve --port "$port" --data-dir "$out/data")
  if [ "$database" = postgres ]; then
    local url=${BENCH_POSTGRES_URL:-postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_bench}
    su postgres -c "psql -qc 'DROP DATABASE IF EXISTS openmtd_bench WITH (FORCE)'" && su postgres -c "createdb -O openmtd openmtd_bench"
    args+=(--database-url "$url")
  fi
}
