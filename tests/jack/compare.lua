-- compare.lua CAPTURE.wav RENDER.wav OFFSET: the capture equals the render
-- from sample OFFSET on (the capture started OFFSET samples after the
-- program did), over as much as both hold. Prints the largest difference.
local strata = require "strata"
local cap, ren, offset = strata.load(arg[1]), strata.load(arg[2]), tonumber(arg[3])
if not offset or offset < 0 then
  error(string.format("the capture's first frame is %s frames from the program's first", tostring(offset)), 0)
end
local c, r = cap:eval(), ren:eval()
local n = math.min(c.frames, r.frames - offset)
if n < r.rate then error(string.format("only %d samples overlap", n), 0) end
local a = cap:slice { duration = n / c.rate }
local b = ren:slice { start = offset / r.rate, duration = n / r.rate }
if a:eval().peak < 0.01 then error("the capture is silent", 0) end
print(string.format("%d samples compared, max difference %g", n, (a - b):eval().peak))
