-- wrk script: each thread checks in as its own slice of the activated devices, in turn,
-- with the typical delta check-in (no inventory change since the last full inventory).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("CREDENTIALS") or "benchmarks/out/credentials.txt"
  local all = {}
  for line in io.lines(file) do all[#all + 1] = line end
  local count = tonumber(os.getenv("THREADS") or "2")
  credentials = {}
  for i = 1, #all do
    if (i - 1) % count == id then credentials[#credentials + 1] = all[i] end
  end
  body = io.open(os.getenv("BODY") or "benchmarks/out/checkin-delta.json"):read("*a")
  position = 0
end

function request()
  position = position % #credentials + 1
  return wrk.format("POST", "/agent/v1/checkin",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. credentials[position] }, body)
end

function done(summary, latency, requests)
  io.write(string.format("wrk-json {\"requests\":%d,\"seconds\":%.3f,\"rps\":%.1f,\"p50ms\":%.2f,\"p99ms\":%.2f,\"maxms\":%.2f,\"non2xx\":%d,\"errors\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
