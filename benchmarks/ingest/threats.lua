-- wrk script: threat-opening check-ins. Each thread checks in as its own slice of the activated
-- devices, in turn; every check-in is an inventory delta that follows the device's stored version
-- and alternately installs a sideloaded stalkerware app (opens a HIGH threat) and removes it
-- (resolves the threat). So every request takes the transactional path and changes a threat.
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
  versions = {}
  for i = 1, #all do
    if (i - 1) % count == id then
      credentials[#credentials + 1] = all[i]
      -- The fleet's full check-in stored inventory version 1.
      versions[#credentials] = 1
    end
  end
  install = io.open(os.getenv("INSTALL_BODY") or "benchmarks/out/checkin-install.json"):read("*a")
  remove = io.open(os.getenv("REMOVE_BODY") or "benchmarks/out/checkin-remove.json"):read("*a")
  position = 0
  unexpected = 0
end

function request()
  position = position % #credentials + 1
  local version = versions[position] + 1
  versions[position] = version
  -- Even versions install the app, odd ones remove it again.
  local template = (version % 2 == 0) and install or remove
  local body = string.gsub(template, "\"__VERSION__\"", tostring(version))
  return wrk.format("POST", "/agent/v1/checkin",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. credentials[position] }, body)
end

function response(status, headers, body)
  -- A check-in that asks for a full inventory fell out of step: it changed no threat.
  if status ~= 200 or string.find(body, "\"fullInventoryRequired\":true", 1, true) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local outOfStep = 0
  for _, thread in ipairs(threads) do outOfStep = outOfStep + (thread:get("unexpected") or 0) end
  io.write(string.format("wrk-json {\"requests\":%d,\"seconds\":%.3f,\"rps\":%.1f,\"p50ms\":%.2f,\"p99ms\":%.2f,\"maxms\":%.2f,\"non2xx\":%d,\"errors\":%d,\"outOfStep\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, outOfStep))
end
