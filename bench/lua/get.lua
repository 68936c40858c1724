-- GET the URL given to wrk; a success answers 200.
-- Used for the baseline (/donate) and for /petitions/<slug>/count.json.

local common = require("common")

setup = common.setup
response = common.response
done = common.done

function init(args)
  common.init_counters(200)
end
