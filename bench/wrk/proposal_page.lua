-- The page a proposal's public link opens (no credential), as a customer's browser asks for it.
request = function()
  return wrk.format("GET", os.getenv("NUCLEO_BENCH_PAGE"), {["Accept"] = "text/html"})
end
