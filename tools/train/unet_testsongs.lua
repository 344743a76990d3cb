-- strata run unet_testsongs.lua DIR N SEED: N songs of strata's testsong node for the
-- U-Net's training data: DIR/testsongNNN_lead.wav (the lead stem) and
-- DIR/testsongNNN_rest.wav (drums + bass + chords), 16-bit mono. Tempo, meter,
-- arrangement and song seed are drawn from SEED.
local strata = require "strata"
local dir, n, seed = arg[1], tonumber(arg[2]), tonumber(arg[3])
math.randomseed(seed)
local meters = { 2, 3, 4, 4, 3, 4 }
for j = 0, n - 1 do
  local tempo = math.floor(math.exp(math.log(60) + math.random() * (math.log(180) - math.log(60))) * 10 + 0.5) / 10
  local bpb = meters[math.random(#meters)]
  local bars = math.max(4, math.floor(24 * tempo / 60 / bpb))
  local arrangement = ({ "full", "build", "random" })[math.random(3)]
  local song = strata.testsong { tempo = tempo, beats_per_bar = bpb, bars = bars, seed = seed + j,
    arrangement = arrangement }
  local name = string.format("%s/testsong%03d", dir, j)
  song.lead:mono():save { path = name .. "_lead.wav", subtype = "PCM_16" }
  strata.mix { song.drums, song.bass, song.chords }:mono():save { path = name .. "_rest.wav", subtype = "PCM_16" }
end
