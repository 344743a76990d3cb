-- Live NMF: templates learned offline from one example file per source (up to four), then the
-- live input split among those sources by streaming NMF with the templates held fixed
-- (FluCoMa's NMFFilter). Each source leaves on its own port.
--   strata live examples/live-nmf.lua DRUMS.wav BASS.wav [...] [--rank R] [--rate HZ]
-- The examples are resampled to the rate JACK runs at (--rate, 48000 by default): a template's
-- bins are frequencies only at the rate it was learned at. The templates are learned once and
-- cached; editing the patch while it plays reuses them.
local strata = require "strata"
local files, rank, rate = {}, 8, 48000
local i = 1
while arg[i] do
  if arg[i] == "--rank" then rank = tonumber(arg[i + 1]) or rank; i = i + 1
  elseif arg[i] == "--rate" then rate = tonumber(arg[i + 1]) or rate; i = i + 1
  else files[#files + 1] = arg[i] end
  i = i + 1
end
if #files == 0 then error("live-nmf: give one example file per source (up to four)", 0) end
local fft = { n_fft = 2048, hop = 512 }
local templates = {}
for k, path in ipairs(files) do
  templates[k] = strata.load { path = path, channels = "mono", rate = rate }:stft(fft):magnitude():nmf { rank = rank, beta = 1, iterations = 200 }
end
local parts = strata.jack_in { channels = 1 }:stft(fft):nmf_filter(templates, { iterations = 10 })
for k = 1, #files do parts["s" .. k]:istft():jack_out { name = "source" .. k } end
