dofile(os.getenv("NUCLEO_BENCH_DIR") .. "/wrk/common.lua")
local body = '{"filter_groups":[{"filters":[{"field":"legal_name","op":"contains","value":"sementes"}]}],"limit":50}'
request = function() return wrk.format("POST", "/v1/accounts/search", nil, body) end
