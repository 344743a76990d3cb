-- Nodes with several outputs give a record; its fields are handles.
--   ./strata run examples/records.lua
local strata = require "strata"
local stereo = strata.signal { kind = "noise", seconds = 1, channels = 2 }
local ms = stereo:midside()
print("mid:  " .. ms.mid:eval().description)
print("side: " .. ms.side:eval().description)
local left = ms.mid + ms.side
print(string.format("left rebuilt from mid + side, peak %.3f", left:eval().peak))
