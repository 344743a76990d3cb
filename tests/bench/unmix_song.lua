-- strata run tests/bench/unmix_song.lua DIR [BARS]: the benchmark's loop song (testsong, "loops"
-- arrangement, 120 BPM) as DIR/song.wav (stereo) and its beats as DIR/beats.txt.
local strata = require "strata"
local dir, bars = arg[1], tonumber(arg[2]) or 90
local song = strata.testsong { bars = bars, tempo = 120, arrangement = "loops" }
-- stereo, as most songs are (the second channel a little quieter)
strata.merge { song.mixture, song.mixture * 0.8 }:save(dir .. "/song.wav")
local f = assert(io.open(dir .. "/beats.txt", "w"))
for i, t in ipairs(song.beats:samples()) do f:write(string.format("%.6f\t%d\n", t, (i - 1) % 4 + 1)) end
f:close()
