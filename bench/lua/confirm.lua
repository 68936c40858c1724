-- GET /petitions/<slug>/confirm/<token>, one pending signature per request.
--
-- Arguments (after "--"): URL prefix up to and including "/confirm/", the
-- tokens file (one per line), thread count. Threads take every n-th token;
-- a thread that runs out starts again and counts each repeat as "reused"
-- (a second click still answers 303 but does less work: a run should have
-- none, and bench/load.py mints enough tokens for that).

local common = require("common")

setup = common.setup
response = common.response

local prefix, tokens, stride, next_index, wrapped

function init(args)
  common.init_counters(303)
  prefix = args[1]
  stride = tonumber(args[3])
  tokens = {}
  local index = 0
  for line in io.lines(args[2]) do
    if index % stride == thread_id then
      table.insert(tokens, line)
    end
    index = index + 1
  end
  next_index = 1
  wrapped = false
  reused = 0
end

function request()
  if next_index > #tokens then
    next_index = 1
    wrapped = true
  end
  if wrapped then
    reused = reused + 1
  end
  local token = tokens[next_index]
  next_index = next_index + 1
  return wrk.format("GET", prefix .. token)
end

function done(summary, latency, requests)
  common.done(summary, latency, requests, { "reused" })
end
