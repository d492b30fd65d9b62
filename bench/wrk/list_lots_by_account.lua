dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  return wrk.format("GET", "/v1/x/org.nucleo.bench.host-call/lots?limit=50&account_id=acc_" ..
                    pad(math.random(1, tonumber(os.getenv("NUCLEO_BENCH_ACCOUNTS"))), 26))
end
