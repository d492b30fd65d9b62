-- POST /v1/deals/{id}/stage back and forth between two stages (bench/run.sh, stage_gates):
-- each wrk thread walks its own NUCLEO_BENCH_MOVE_POOL deals from NUCLEO_BENCH_MOVE_FIRST,
-- moving each to stage A on even rounds and B on odd ones, so no two requests in flight
-- move the same deal.
dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
local first = tonumber(os.getenv("NUCLEO_BENCH_MOVE_FIRST"))
local pool = tonumber(os.getenv("NUCLEO_BENCH_MOVE_POOL"))
local stage_a, stage_b = os.getenv("NUCLEO_BENCH_STAGE_A"), os.getenv("NUCLEO_BENCH_STAGE_B")
local threads = 0
setup = function(thread)
  thread:set("offset", threads * pool)
  threads = threads + 1
end
local counter = 0
request = function()
  local i, round = counter % pool, math.floor(counter / pool)
  counter = counter + 1
  local stage = (round % 2 == 0) and stage_a or stage_b
  return wrk.format("POST", "/v1/deals/deal_" .. pad(first + offset + i, 26) .. "/stage", nil,
                    '{"stage_id":"' .. stage .. '"}')
end
