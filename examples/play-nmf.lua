-- Streaming NMF on a file: MIX split among sources whose templates are learned from example
-- files, as examples/live-nmf.lua does it live; `strata render` writes what JACK would play.
--   strata render examples/play-nmf.lua MIX.wav DRUMS.wav BASS.wav -o out.wav
local strata = require "strata"
local fft = { n_fft = 2048, hop = 512 }
local templates = {}
for k = 2, math.min(#arg, 5) do
  templates[#templates + 1] = strata.load(arg[k]):mono():stft(fft):magnitude():nmf { rank = 8, beta = 1, iterations = 200 }
end
local parts = strata.load(arg[1]):mono():play():stft(fft):nmf_filter(templates, { iterations = 10 })
for k = 1, #templates do parts["s" .. k]:istft():jack_out { name = "source" .. k } end
