-- The pages public links open (no credential), as customers' browsers ask for them: one
-- of the links in NUCLEO_BENCH_PAGES (space-separated paths) at random — customers of
-- their own, not all on one link.
local pages = {}
for path in string.gmatch(os.getenv("NUCLEO_BENCH_PAGES"), "%S+") do pages[#pages + 1] = path end
request = function()
  return wrk.format("GET", pages[math.random(1, #pages)], {["Accept"] = "text/html"})
end
