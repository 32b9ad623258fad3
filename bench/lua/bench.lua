-- bench.lua: the one wrk script of bench/. Request shape comes from the environment, so no
-- secret ever appears on a command line:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY          request body; sets Content-Type: application/json
--   BENCH_TOKEN         bearer access token (Authorization: Bearer ...)
--   BENCH_PREFER        Prefer header value (e.g. "wait=5")
--   BENCH_IDEMPOTENCY   "1": a unique Idempotency-Key per request (run id, thread, counter)
--   BENCH_RUN_ID        prefix of those keys (default: time and a random number)
--   BENCH_COUNT_STATUS  "1": count responses per HTTP status (costs wrk some CPU)
-- At the end it prints one line "BENCH_JSON {...}" with requests, rate, socket errors,
-- latency percentiles (microseconds) and, when counted, responses per status.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local prefer = os.getenv("BENCH_PREFER")
local idem = os.getenv("BENCH_IDEMPOTENCY") == "1"
local count = os.getenv("BENCH_COUNT_STATUS") == "1"
local run_id = os.getenv("BENCH_RUN_ID")
if not run_id or run_id == "" then
  math.randomseed(os.time())
  run_id = string.format("%d-%06d", os.time(), math.random(0, 999999))
end

wrk.method = method
wrk.headers["Accept"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
if prefer and prefer ~= "" then wrk.headers["Prefer"] = prefer end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

-- setup() runs in the main Lua state, once per thread, before the threads start.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

if idem then
  counter = 0
  function request()
    counter = counter + 1
    wrk.headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid or 0, counter)
    return wrk.format()
  end
end

if count then
  statuses = {}
  function response(status, headers, resp_body)
    local k = tostring(status)
    statuses[k] = (statuses[k] or 0) + 1
  end
end

local function jnum(x)
  if x == nil or x ~= x then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local parts = {}
  local function add(k, v) table.insert(parts, string.format('"%s":%s', k, v)) end
  add("requests", string.format("%d", summary.requests))
  add("duration_s", jnum(secs))
  add("rps", jnum(secs > 0 and summary.requests / secs or 0))
  add("bytes", string.format("%d", summary.bytes))
  add("errors", string.format('{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
    e.connect, e.read, e.write, e.status, e.timeout))
  add("latency_us", string.format(
    '{"mean":%s,"stdev":%s,"p50":%s,"p90":%s,"p99":%s,"p999":%s,"max":%s}',
    jnum(latency.mean), jnum(latency.stdev), jnum(latency:percentile(50)),
    jnum(latency:percentile(90)), jnum(latency:percentile(99)),
    jnum(latency:percentile(99.9)), jnum(latency.max)))
  if count then
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
    add("statuses", "{" .. table.concat(st, ",") .. "}")
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
