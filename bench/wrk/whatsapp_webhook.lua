-- Meta's notifications, signed, replayed from the file bench/whatsapp_seed.py wrote:
-- each wrk thread takes every other line, so no message is sent twice.
local path = "/v1/x/org.nucleo.whatsapp/webhook/" .. os.getenv("NUCLEO_BENCH_WA_NUMBER")
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  signatures, bodies = {}, {}
  for line in io.lines(os.getenv("NUCLEO_BENCH_WA_BODIES")) do
    local tab = line:find("\t")
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  next_line = tid + 1
end
request = function()
  local i = next_line
  next_line = next_line + 2
  if next_line > #bodies then next_line = tid + 1 end
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = signatures[i]},
                    bodies[i])
end
