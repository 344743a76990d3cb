-- Streaming NMF with fixed templates (nmf_filter): templates learned from a
-- generated song's drums and bass split their mixture well above the
-- mixture baseline, the parts add up to the mixture, and a `strata render`
-- of the stream program gives the offline frames (late by the STFT's n_fft - 1).
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local dir = t.tmpdir()
local song = strata.testsong { bars = 2 }
song.drums:save(dir .. "/drums.wav")
song.bass:save(dir .. "/bass.wav")
local mix = song.drums + song.bass
mix:save(dir .. "/mix.wav")

local fft = { n_fft = 1024, hop = 256 }
local templates = {}
for k, name in ipairs { "drums", "bass" } do
  templates[k] = strata.load(dir .. "/" .. name .. ".wav"):stft(fft):magnitude():nmf { rank = 6, iterations = 100 }
end
local parts = strata.load(dir .. "/mix.wav"):stft(fft):nmf_filter(templates, { iterations = 10 })
local d, b = parts.s1:istft(), parts.s2:istft()
local sum = (d + b - mix):eval().peak
t.check("nmf_filter: the parts add up to the mixture", sum < 1e-4, sum)
local silent = parts.s3:istft():eval().peak
t.check("nmf_filter: outputs beyond the sources are silent", silent == 0, silent)
local sdr = strata.bsseval(strata.list { song.drums, song.bass }, strata.list { d, b }).sdr:samples()
local base = strata.bsseval(strata.list { song.drums, song.bass }, strata.list { mix * 0.5, mix * 0.5 }).sdr:samples()
print(string.format("# nmf_filter: drums %.2f, bass %.2f dB (mixture/2: %.2f, %.2f)", sdr[1], sdr[2], base[1], base[2]))
t.check("nmf_filter: separates drums and bass", sdr[1] > base[1] + 6 and sdr[2] > base[2] + 6,
  string.format("%.2f, %.2f dB", sdr[1], sdr[2]))

-- the same graph as a stream program, rendered
local patch = io.open(dir .. "/stream.lua", "w")
patch:write(string.format([[
local strata = require "strata"
local fft = { n_fft = 1024, hop = 256 }
local t = {}
for _, name in ipairs { "drums", "bass" } do
  t[#t + 1] = strata.load("%s/" .. name .. ".wav"):stft(fft):magnitude():nmf { rank = 6, iterations = 100 }
end
local parts = strata.load("%s/mix.wav"):play():stft(fft):nmf_filter(t, { iterations = 10 })
parts.s1:istft():jack_out()
]], dir, dir))
patch:close()
local strata_bin = os.getenv("STRATA") or "./strata"
local ok = os.execute(string.format("%s --quiet render %s/stream.lua -o %s/stream.wav --seconds %.3f --block 100", strata_bin, dir, dir, mix:eval().duration + 0.1))
t.check("nmf_filter: the stream program renders", ok, "strata render failed")
if ok then
  local a, want = strata.load(dir .. "/stream.wav"):samples(1), d:samples()
  local worst, peak = 0, 0
  for i = 1024, #want - 1024 do
    worst = math.max(worst, math.abs(a[i + 1023] - want[i]))
    peak = math.max(peak, math.abs(want[i]))
  end
  t.check("nmf_filter: the render equals the offline frames", worst < 1e-5 * peak + 1e-7,
    string.format("max difference %g (peak %g)", worst, peak))
end
os.execute("rm -rf '" .. dir .. "'")
