-- strata run testsongs.lua DIR N SEED [stems]: N songs of strata's testsong node as
-- training data. Tempo, meter, arrangement and song seed are drawn from SEED.
-- For the beat tracker (no 4th argument): DIR/testsongNNN.wav (16-bit), .txt (beats:
-- time and bar position) and .json (what it is); tempos 60-200 BPM.
-- For the U-Net (`stems`): DIR/testsongNNN_lead.wav (the lead stem) and
-- DIR/testsongNNN_rest.wav (drums + bass + chords), 16-bit mono; tempos 60-180 BPM.
local strata = require "strata"
local dir, n, seed, stems = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4] == "stems"
math.randomseed(seed)
local meters = { 2, 3, 4, 4, 3, 4 }
local max_bpm = stems and 180 or 200
for j = 0, n - 1 do
  local tempo = math.floor(math.exp(math.log(60) + math.random() * (math.log(max_bpm) - math.log(60))) * 10 + 0.5) / 10
  local bpb = meters[math.random(#meters)]
  local bars = math.max(4, math.floor(24 * tempo / 60 / bpb))
  local arrangement = ({ "full", "build", "random" })[math.random(3)]
  local song = strata.testsong { tempo = tempo, beats_per_bar = bpb, bars = bars, seed = seed + j,
    arrangement = arrangement }
  local name = string.format("%s/testsong%03d", dir, j)
  if stems then
    song.lead:mono():save { path = name .. "_lead.wav", subtype = "PCM_16" }
    strata.mix { song.drums, song.bass, song.chords }:mono():save { path = name .. "_rest.wav", subtype = "PCM_16" }
  else
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
end
