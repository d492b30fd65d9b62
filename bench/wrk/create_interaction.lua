dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local body = '{"type":"call","direction":"outbound","channel":"phone","subject":"Bench","body":"body",' ..
               '"account_id":"acc_' .. pad(math.random(1, tonumber(os.getenv("NUCLEO_BENCH_ACCOUNTS"))), 26) .. '"}'
  return wrk.format("POST", "/v1/interactions", nil, body)
end
