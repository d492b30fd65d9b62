dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
local events = tonumber(os.getenv("NUCLEO_BENCH_AUDIT_EVENTS"))
request = function()
  return wrk.format("GET", "/v1/audit/proof/inclusion?seq=" .. math.random(0, events - 1) .. "&tree_size=" .. events)
end
