-- HPSS of a file, streamed: the same graph as examples/live-hpss.lua with a file for input.
--   strata render examples/play-hpss.lua song.wav -o parts.wav --seconds 30
--   strata live examples/play-hpss.lua song.wav
local strata = require "strata"
local song = strata.load(arg[1] or error("usage: strata live examples/play-hpss.lua FILE", 0))
local parts = song:play():stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31 }
parts.harmonic:istft():jack_out { name = "harmonic" }
parts.percussive:istft():jack_out { name = "percussive" }
