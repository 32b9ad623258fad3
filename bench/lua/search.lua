-- search.lua: the wrk script of bench/search.sh. Every request takes the next path of a
-- rotation read from the file named by BENCH_PATHS (one path with its query string a line,
-- e.g. /api/v1/events/search?q=jazz&city=Berlin); each thread starts at its own offset so
-- that concurrent connections ask different things (a file of one path reads one thing).
-- Responses are counted per status.
-- At the end it prints one line "BENCH_JSON {...}" with requests, rate, socket errors,
-- latency percentiles (microseconds: p50, p90, p95, p99, p99.9, max) and the statuses.

local file = os.getenv("BENCH_PATHS")
local paths = {}
if file and file ~= "" then
  for line in io.lines(file) do
    if line ~= "" and line:sub(1, 1) ~= "#" then table.insert(paths, line) end
  end
end
if #paths == 0 then paths = { "/" } end

wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
-- BENCH_INM: an ETag sent as If-None-Match on every request (a revalidating client).
local inm = os.getenv("BENCH_INM")
if inm and inm ~= "" then wrk.headers["If-None-Match"] = inm end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local n = 0
statuses = {}

function request()
  n = n + 1
  local i = ((tid or 1) * 7919 + n) % #paths + 1
  return wrk.format(nil, paths[i])
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

local function jnum(x)
  if x == nil or x ~= x then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local agg = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if type(s) == "table" then
      for k, v in pairs(s) do agg[k] = (agg[k] or 0) + v end
    end
  end
  local st = {}
  for k, v in pairs(agg) do table.insert(st, string.format('"%s":%d', k, v)) end
  table.sort(st)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%s,"rps":%s,"paths":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%s,"stdev":%s,"p50":%s,"p90":%s,"p95":%s,"p99":%s,"p999":%s,"max":%s},' ..
    '"statuses":{%s}}\n',
    summary.requests, jnum(secs), jnum(secs > 0 and summary.requests / secs or 0), #paths,
    e.connect, e.read, e.write, e.status, e.timeout,
    jnum(latency.mean), jnum(latency.stdev), jnum(latency:percentile(50)),
    jnum(latency:percentile(90)), jnum(latency:percentile(95)), jnum(latency:percentile(99)),
    jnum(latency:percentile(99.9)), jnum(latency.max), table.concat(st, ",")))
end
