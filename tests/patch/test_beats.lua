-- The beats node: madmom's decoded files reproduced through the node (the
-- DBN numerics are checked in detail by the unit test test_dbn.c), meter
-- choice, parameter checks and bad activation files.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local function text_of(events)
  local times, labels = events:samples()
  local lines = {}
  for i = 1, #times do lines[i] = string.format("%.3f\t%d\n", times[i], labels[i]) end
  return table.concat(lines), times, labels
end

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

local anchor = strata.signal { kind = "silence", seconds = 1 }
local root = t.corpus("conformance/madmom_dbn", "params.json", "beats node conformance")
if root then
  for _, name in ipairs { "waltz_150bpm", "four4_120bpm", "four4_ramp_100_116bpm", "four4_88_jump_70bpm",
    "twelve8_like_80bpm", "four4_noisy_110bpm" } do
    local got = text_of(anchor:beats { activations = root .. "/" .. name .. ".activations.txt", meters = "3,4" })
    local want = read(root .. "/" .. name .. ".dbn_downbeats.txt")
    t.check("beats node " .. name .. " as madmom decodes it", got == want, got:sub(1, 120))
  end
  -- float32 activations through load_activations: the same decoding on a clean case
  local got = text_of(strata.load_activations(root .. "/waltz_150bpm.activations.txt"):beats { meters = "3,4" })
  t.check("beats node from a load_activations array", got == read(root .. "/waltz_150bpm.dbn_downbeats.txt"),
    got:sub(1, 120))
  -- the default meters (2, 3, 4) keep 3 for the waltz; a forced meter is obeyed
  local _, _, labels = text_of(anchor:beats { activations = root .. "/waltz_150bpm.activations.txt" })
  local top = 0
  for _, l in ipairs(labels) do top = math.max(top, l) end
  t.check("beats node: the waltz stays in 3 with meters 2,3,4", top == 3, top)
  _, _, labels = text_of(anchor:beats { activations = root .. "/four4_120bpm.activations.txt", meters = "3" })
  top = 0
  for _, l in ipairs(labels) do top = math.max(top, l) end
  t.check("beats node: meters = 3 gives bars of 3", top == 3, top)
end

t.raises("beats: meters must be numbers", function() anchor:beats { meters = "three" } end, "meters")
t.raises("beats: tempo range ordered", function() anchor:beats { min_bpm = 200, max_bpm = 100 } end, "min_bpm")
t.raises("beats: audio without activations", function() anchor:beats():eval() end, "activations")
local dir = t.tmpdir()
local bad = io.open(dir .. "/bad.txt", "w")
bad:write("0.1 0.2\n0.3 oops\n")
bad:close()
t.raises("beats: a bad activation line is named", function() anchor:beats { activations = dir .. "/bad.txt" }:eval() end,
  "bad.txt' line 2")
t.raises("beats: a missing activation file is named", function() anchor:beats { activations = dir .. "/none.txt" }:eval() end,
  "none.txt")
local quiet = io.open(dir .. "/quiet.txt", "w")
for _ = 1, 300 do quiet:write("0.01 0.01\n") end
quiet:close()
local n = #anchor:beats { activations = dir .. "/quiet.txt" }:samples()
t.check("beats: activations below the threshold give no beats", n == 0, n)
os.execute("rm -rf '" .. dir .. "'")
