dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  return wrk.format("GET", "/v1/deals?limit=50&stage_id=stg_" .. pad(math.random(1, 5), 26))
end
