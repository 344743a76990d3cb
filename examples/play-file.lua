-- Play a file through the STFT and back, live:
--   strata live examples/play-file.lua song.wav
--   strata render examples/play-file.lua song.wav -o out.wav --seconds 10
-- The spectrum in between is where a separation would go.
local strata = require "strata"
local file = arg[1] or error("usage: strata live examples/play-file.lua FILE", 0)
local song = strata.load(file)
local back = song:play():stft { n_fft = 2048, hop = 512 }:istft()
back:jack_out()
