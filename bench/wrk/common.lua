-- Shared by the wrk scripts: the API key comes from the environment.
key = os.getenv("NUCLEO_BENCH_KEY")
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Content-Type"] = "application/json"
function pad(n, width) return string.rep("0", width - #tostring(n)) .. tostring(n) end
