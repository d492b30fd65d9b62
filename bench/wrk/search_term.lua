dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
-- POST /v1/accounts/search, legal_name contains NUCLEO_BENCH_TERM (issue #29).
local term = os.getenv("NUCLEO_BENCH_TERM")
local body = '{"filter_groups":[{"filters":[{"field":"legal_name","op":"contains","value":"' .. term .. '"}]}],"limit":50}'
request = function() return wrk.format("POST", "/v1/accounts/search", nil, body) end
