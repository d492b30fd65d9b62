dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  return wrk.format("GET", "/v1/x/org.nucleo.bench.host-call/lots/lot_" ..
                    pad(math.random(1, tonumber(os.getenv("NUCLEO_BENCH_DEALS"))), 26))
end
