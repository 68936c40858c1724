-- Shared by every scenario: per-thread status counting and a JSON summary.
--
-- wrk itself only counts socket errors and statuses above 399; each scenario
-- names the one status a success answers (expected_status) and every other
-- status is counted here, per thread, then summed in done().

local M = {}
local threads = {}

-- Runs in the main Lua state once per thread: number the threads.
function M.setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

-- Runs in each thread's state: reset the counters thread:get() reads later.
function M.init_counters(expected)
  expected_status = expected
  unexpected = 0
  bad_status = 0
end

-- Runs in each thread's state for every response.
function M.response(status, headers, body)
  if status ~= expected_status then
    unexpected = unexpected + 1
    bad_status = status
  end
end

-- Sum a per-thread global over all threads.
local function total(name)
  local sum = 0
  for _, thread in ipairs(threads) do
    sum = sum + (thread:get(name) or 0)
  end
  return sum
end

-- Last non-zero per-thread value of a global (a sample, for diagnosis).
local function sample(name)
  local seen = 0
  for _, thread in ipairs(threads) do
    local value = thread:get(name) or 0
    if value ~= 0 then
      seen = value
    end
  end
  return seen
end

-- Runs once at the end: one machine-readable line for bench/load.py.
function M.done(summary, latency, requests, extra)
  local errors = summary.errors
  local fields = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format('"p50_us": %d', latency:percentile(50)),
    string.format('"p95_us": %d', latency:percentile(95)),
    string.format('"p99_us": %d', latency:percentile(99)),
    string.format('"max_us": %d', latency.max),
    string.format('"connect_errors": %d', errors.connect),
    string.format('"read_errors": %d', errors.read),
    string.format('"write_errors": %d', errors.write),
    string.format('"timeouts": %d', errors.timeout),
    string.format('"status_over_399": %d', errors.status),
    string.format('"unexpected_status": %d', total("unexpected")),
    string.format('"bad_status_sample": %d', sample("bad_status")),
  }
  for _, name in ipairs(extra or {}) do
    table.insert(fields, string.format('"%s": %d', name, total(name)))
  end
  io.write("BENCH_RESULT {" .. table.concat(fields, ", ") .. "}\n")
end

return M
