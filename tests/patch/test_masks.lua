-- Masks: Wiener masks sum to one, binary masks pick the largest, resynth of
-- hpss's masks equals the ISTFT of its spectra, apply_mask agrees, shared
-- masks serve every channel.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local song = strata.testsong { bars = 2 }
local spec = song.mixture:stft { n_fft = 1024, hop = 256 }
local d, b = song.drums:stft { n_fft = 1024, hop = 256 }:magnitude(), song.bass:stft { n_fft = 1024, hop = 256 }:magnitude()
local masks = strata.wiener(d, b)
local m1, m2 = masks[1]:samples(), masks[2]:samples()
local worst = 0
for i = 1, #m1, 7 do worst = math.max(worst, math.abs(m1[i] + m2[i] - 1)) end
t.check("wiener masks sum to one", worst < 1e-6, worst)
local bin = strata.wiener(d, b, { binary = true })
local b1, b2 = bin[1]:samples(), bin[2]:samples()
local ds_, bs_ = d:samples(), b:samples()
local ok = true
for i = 1, #b1, 7 do ok = ok and (b1[i] + b2[i] == 1) and (b1[i] == 1) == (ds_[i] >= bs_[i]) end
t.check("binary masks pick the larger estimate", ok, "a bin disagrees")

local parts = spec:hpss()
local out = strata.resynth(spec, parts.masks)
local dh = (out[1] - parts.harmonic:istft()):eval().peak
t.check("resynth of a mask stack equals the ISTFT of the masked spectra", dh < 1e-6, dh)
local dm = (spec:apply_mask(parts.masks, { index = 1 }):istft() - parts.percussive:istft()):eval().peak
t.check("apply_mask picks a mask of a stack", dm < 1e-6, dm)
local soft = strata.softmask(d, b, { power = 2, split_zeros = true })
local ds = (strata.resynth(spec, strata.list { soft })[1] - spec:apply_mask(masks[1]):istft()):eval().peak
t.check("softmask of two equals the two-source Wiener mask", ds < 1e-5, ds)

-- stereo: a mono mask shared by both channels
local stereo = strata.merge { song.mixture, song.mixture * 0.5 }:stft { n_fft = 1024, hop = 256 }
local mono_mask = song.mixture:stft { n_fft = 1024, hop = 256 }:hpss().masks
local shared = strata.resynth(stereo, mono_mask, { shared = true })[1]:eval()
t.check("a mono mask serves a stereo mixture", shared.channels == 2, shared.description)
-- ...and serves it bin for bin: channel 1 is the mono mixture masked, channel 2 half of it
local single = strata.resynth(song.mixture:stft { n_fft = 1024, hop = 256 }, mono_mask)[1]
local expected = strata.merge { single, single * 0.5 }
local d_shared = (strata.resynth(stereo, mono_mask, { shared = true })[1] - expected):eval().peak
t.check("the shared mask gives each channel its own masked samples", d_shared < 1e-5, d_shared)
t.raises("a mask of the wrong size is refused", function()
  strata.resynth(stereo, song.bass:stft { n_fft = 512 }:magnitude()):eval()
end, "the mask is")
t.raises("an index past the list", function() masks[3]:eval() end, "index 3: the list holds 2 values")

local th = masks[1]:threshold_mask { threshold = 0.5 }:samples()
local agree = true
for i = 1, #th, 7 do agree = agree and (th[i] == 1) == (m1[i] > 0.5) end
t.check("threshold masks", agree, "a bin disagrees")
