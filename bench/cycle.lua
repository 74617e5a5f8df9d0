-- wrk: cycle through the paths in $TILES (one per line), each connection from its own offset
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
