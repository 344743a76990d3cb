-- The nmf node on a generated song (its numerics are checked against
-- scikit-learn in tests/unit/test_nmf.c): shapes and axes, the divergence
-- falls, fixed templates stay as given, a given start is used, stereo shares
-- W, bad uses are refused with a message that names the parameter.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local song = strata.testsong { bars = 2 }
local V = song.mixture:stft { n_fft = 1024, hop = 256 }:magnitude()
local frames = V:eval().shape[2]

local m = V:nmf { rank = 6, beta = 1, iterations = 60, tol = 0 }
local W, H = m.W:eval(), m.H:eval()
t.check("nmf: W is (rank, freq)", W.shape[1] == 6 and W.shape[2] == 513 and W.axes[1] == "rank",
  W.description)
t.check("nmf: H is (channel, time, rank)", H.shape[1] == 1 and H.shape[2] == frames and H.shape[3] == 6,
  H.description)
local d, it = m.divergence:samples(), m.iteration:samples()
local falls = true
for i = 2, #d do falls = falls and d[i] <= d[i - 1] * (1 + 1e-6) end
t.check("nmf: the divergence never rises", falls and #d == 7 and it[#it] == 60,
  string.format("%d points, last at iteration %s", #d, tostring(it[#it])))
t.check("nmf: the fit explains most of the spectrogram", d[#d] < 0.1 * d[1],
  string.format("%g from %g", d[#d], d[1]))

-- tol stops early, on a multiple of 10
local early = V:nmf { rank = 6, iterations = 1000, tol = 1e-2 }.iteration:samples()
t.check("nmf: tol stops on a check", early[#early] < 1000 and early[#early] % 10 == 0, early[#early])

-- fixed templates: W comes back as given, new activations fit the song
local other = strata.testsong { bars = 2, seed = 7 }.mixture:stft { n_fft = 1024, hop = 256 }:magnitude()
local tr = other:nmf { m, fixed = "W", iterations = 40 }
local w0, w1 = m.W:samples(), tr.W:samples()
local same = #w0 == #w1
for i = 1, #w0 do same = same and w0[i] == w1[i] end
t.check("nmf: fixed W stays as given", same, "W changed")
local td = tr.divergence:samples()
t.check("nmf: fixed W, the activations' divergence falls", td[#td] < td[1], td[#td])

-- a given start: zero iterations' worth of change at the start point
local restart = V:nmf { m, init = "given", iterations = 10, tol = 0 }.divergence:samples()
t.check("nmf: a given start is used", math.abs(restart[1] - d[#d]) <= 1e-4 * d[#d],
  string.format("%g vs %g", restart[1], d[#d]))

-- stereo: one W, activations per channel
local st = strata.merge { song.mixture, song.drums }:stft { n_fft = 1024, hop = 256 }:magnitude()
local sh = st:nmf { rank = 4, iterations = 20 }.H:eval()
t.check("nmf: stereo gives activations per channel", sh.shape[1] == 2 and sh.shape[3] == 4, sh.description)

-- Euclidean and Itakura-Saito run and fall too
for _, beta in ipairs { 2, 0, 0.5 } do
  local dv = V:nmf { rank = 4, beta = beta, iterations = 30, tol = 0, floor = 1e-6 }.divergence:samples()
  t.check("nmf: beta " .. beta .. " falls", dv[#dv] < dv[1], string.format("%g from %g", dv[#dv], dv[1]))
end

t.raises("nmf: fixed W needs W", function() V:nmf { fixed = "W" }.W:eval() end, "fixed = \"W\" needs W")
t.raises("nmf: init given needs W and H", function() V:nmf { init = "given" }.W:eval() end, "needs W and H")
t.raises("nmf: templates of another size are refused", function()
  strata.testsong { bars = 1 }.mixture:stft { n_fft = 512 }:magnitude():nmf { m, fixed = "W" }.H:eval()
end, "W must be")
t.raises("nmf: an unknown init is refused", function() V:nmf { init = "svd" } end, "init")
