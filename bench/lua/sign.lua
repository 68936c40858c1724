-- POST /petitions/<slug>/sign with a fresh email and client address each time.
--
-- Arguments (after "--"): path, csrf token, session cookie, referer, run tag,
-- thread count, first address index. Every request gets a distinct
-- 10.x.y.z in X-Forwarded-For, so the per-address rate limit applies as in
-- production without ever tripping; a success answers 303.

local common = require("common")

setup = common.setup
response = common.response
done = common.done

local path, body_prefix, headers, tag, stride, first, sent

-- The sequential client address for request number k.
local function address(k)
  k = k % 16777216
  local x = math.floor(k / 65536)
  local y = math.floor(k / 256) % 256
  return string.format("10.%d.%d.%d", x, y, k % 256)
end

function init(args)
  common.init_counters(303)
  path = args[1]
  body_prefix = "name=Bench+Signer&country=GB&csrf_token=" .. args[2]
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "session=" .. args[3],
    ["Referer"] = args[4],
    ["X-Forwarded-Proto"] = "https",
  }
  tag = args[5]
  stride = tonumber(args[6])
  first = tonumber(args[7])
  sent = 0
end

function request()
  local k = first + sent * stride + thread_id
  sent = sent + 1
  headers["X-Forwarded-For"] = address(k)
  local email = string.format("%s-%d-%d%%40bench.example", tag, thread_id, sent)
  return wrk.format("POST", path, headers, body_prefix .. "&email=" .. email)
end
