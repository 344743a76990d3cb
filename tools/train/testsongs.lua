-- strata run testsongs.lua DIR N SEED: N songs of strata's testsong node for the
-- beat tracker's training data: DIR/testsongNNN.wav (16-bit), .txt (beats:
-- time and bar position) and .json (what it is). Tempo, meter, arrangement
-- and song seed are drawn from SEED.
local strata = require "strata"
local dir, n, seed = arg[1], tonumber(arg[2]), tonumber(arg[3])
math.randomseed(seed)
local meters = { 2, 3, 4, 4, 3, 4 }
for j = 0, n - 1 do
  local tempo = math.floor(math.exp(math.log(60) + math.random() * (math.log(200) - math.log(60))) * 10 + 0.5) / 10
  local bpb = meters[math.random(#meters)]
  local bars = math.max(4, math.floor(24 * tempo / 60 / bpb))
  local arrangement = ({ "full", "build", "random" })[math.random(3)]
  local song = strata.testsong { tempo = tempo, beats_per_bar = bpb, bars = bars, seed = seed + j,
    arrangement = arrangement }
  local name = string.format("%s/testsong%03d", dir, j)
  song.mixture:save { path = name .. ".wav", subtype = "PCM_16" }
  local times, labels = song.beats:samples()
  local f = assert(io.open(name .. ".txt", "w"))
  for i = 1, #times do f:write(string.format("%.6f %d\n", times[i], labels[i])) end
  f:close()
  f = assert(io.open(name .. ".json", "w"))
  f:write(strata.json { seed = seed + j, meter = bpb .. " beats", beats_per_bar = bpb, bpm = tempo,
    tempo = "steady", arrangement = arrangement })
  f:close()
end
