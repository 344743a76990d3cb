-- The README's first patch: load a file, look at its STFT, write it back at half level.
--   ./strata run examples/first.lua song.wav
local strata = require "strata"
local song = strata.load(arg[1] or error("usage: strata run examples/first.lua SONG.wav", 0))
local spec = song:stft { n_fft = 2048, hop = 512 }
print(spec:eval().description)
local quiet = spec:istft() * 0.5
quiet:save("quiet.wav")
