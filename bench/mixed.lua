-- wrk: cycle through the paths in $TILES like cycle.lua, and print p50/p95/p99 and the
-- non-2xx/3xx count as one JSON line at the end (wrk's --latency has no p95)
local paths = {}
for line in io.lines(os.getenv("TILES")) do paths[#paths + 1] = line end
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("start", counter * 37) end
local i = nil
request = function()
  if i == nil then i = start or 0 end
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, '
    .. '"max_ms": %.2f, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
