-- Writes the hostile inputs of tests/cli/test_hostile.sh into arg[1].
local dir = arg[1]

local function write(name, bytes)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- A float WAV of n_frames frames of n_channels channels (a quiet ramp).
local function wav(n_channels, n_frames, rate)
  local samples = {}
  for i = 1, n_frames do
    local frame = string.pack("<f", 0.001 * (i % 100))
    samples[i] = frame:rep(n_channels)
  end
  local data = table.concat(samples)
  local fmt = string.pack("<I2I2I4I4I2I2", 3, n_channels, rate, rate * 4 * n_channels, 4 * n_channels, 32)
  local body = "WAVE" .. "fmt " .. string.pack("<I4", #fmt) .. fmt .. "data" .. string.pack("<I4", #data) .. data
  return "RIFF" .. string.pack("<I4", #body) .. body
end

write("c300.wav", wav(300, 2048, 44100))
write("short.wav", wav(1, 4096, 44100))
write("beats.txt", "0.5\t1\n1.0\t2\n1.5\t3\n2.0\t4\n2.5\t1\n3.0\t2\n3.5\t3\n4.0\t4\n")
write("empty.txt", "")
write("comments.txt", "# nothing but a comment\n\n   \n")
write("repeated.txt", "0.5\n1.0\n1.0\n1.5\n")
write("huge.txt", "0.5\n1.0\n9e16\n")
write("negative.txt", "-0.5\n1.0\n")
write("nonnumber.txt", "0.5\nabc\n")
-- one patch writing a small file then a large one: a file-size limit
-- between the two makes the second fail, as a full disk would
os.execute("mkdir -p '" .. dir .. "/patches'")
write("patches/two.lua", [[
local strata = require "strata"
local dir = ...
strata.signal { seconds = 0.01 }:save(dir .. "/a.wav")
strata.signal { seconds = 5 }:save(dir .. "/b.wav")
]])
write("patches/readback.lua", [[
local strata = require "strata"
local dir = ...
strata.signal { seconds = 0.5, freq = 440 }:save(dir .. "/rb.wav")
local back = strata.load(dir .. "/rb.wav"):eval()
print(string.format("frames %d", back.frames))
]])
write("patches/exits.lua", [[
local strata = require "strata"
local dir = ...
strata.signal { seconds = 0.01 }:save(dir .. "/exited.wav")
os.exit(0)
]])
write("errtable.lua", "local x = 1\n\nerror({})\n")
