-- REPET against nussl 1.1.9's own Repet (corpus conformance/nussl_repet; nussl's STFT
-- and the mask comparison in nussl_repet.lua): the beat spectrum (nussl's STFT scale
-- put back), the period, the background mask and both signals in the stored windows.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local nussl = require "nussl_repet"

local fixture = nussl.open("repet.json", "repet conformance")
if not fixture then return end
local ref, root = fixture.ref, fixture.root
local spec = nussl.stft(fixture.input, ref.n_frames)
local rate, n_fft, hop = nussl.rate, nussl.n_fft, nussl.hop
local n = fixture.input:eval().frames
t.check("nussl's frames", spec:eval().frames == ref.n_frames, spec:eval().frames)
local r = spec:repet {}

-- the beat spectrum: nussl's power is |X / sum(w)|^2, so ours is sum(w)^4 larger
local wsum = 0
for i = 0, n_fft - 1 do wsum = wsum + math.sqrt(0.5 - 0.5 * math.cos(2 * math.pi * i / n_fft)) end
local beat = r.beat_spectrum:samples()
local worst, at = 0, 0
for l = 1, #ref.beat_spectrum do
  local want = ref.beat_spectrum[l]
  local rel = math.abs(beat[l] / wsum ^ 4 - want) / want
  if rel > worst then worst, at = rel, l - 1 end
end
t.check("beat spectrum within 1e-4 (relative) of nussl's", #beat == #ref.beat_spectrum and worst <= 1e-4,
  string.format("%d lags; worst %.3g at lag %d", #beat, worst, at))
print(string.format("# beat spectrum: worst relative difference %.3g (lag %d)", worst, at))

local period = r.period:number()
t.check("period as nussl's", math.floor(period * rate / hop + 0.5) == ref.period_frames,
  string.format("%.4f s = %.2f frames, nussl %d", period, period * rate / hop, ref.period_frames))

local mask, mag = r.mask:samples(), spec:magnitude():samples()
for w, name in pairs { head = "repet_background_mask_head.f32", tail = "repet_background_mask_tail.f32" } do
  nussl.check_mask("background mask (" .. w .. ")", mask, mag, root .. "/" .. name, ref.mask_windows_frames[w][1],
    ref.n_bins)
end

-- the signals, in the stored windows
local bg = r.background:istft():slice { duration = n / rate }
local fg = r.foreground:istft():slice { duration = n / rate }
for _, part in ipairs { { "background", bg }, { "foreground", fg } } do
  for w, span in pairs(ref.signal_windows_samples) do
    local got = part[2]:slice { start = span[1] / rate, duration = (span[2] - span[1]) / rate }
    local want = strata.load(string.format("%s/repet_%s_%s.wav", root, part[1], w))
    local snr = nussl.snr_db(got, want)
    t.check(string.format("%s (%s) matches nussl's", part[1], w), snr >= 60, string.format("SNR %.1f dB", snr))
    print(string.format("# %s %s: SNR %.1f dB against nussl", part[1], w, snr))
  end
end

-- strata repet's way (patches/repet.lua): repet_mask's mask (repet's, bit for bit), the
-- background by resynth (the mask applied inside the inverse), the foreground as the
-- input minus the background in the time domain; both as nussl's
local rm = spec:repet_mask {}
local bg2 = strata.resynth(spec, rm.mask)[1]:slice { duration = n / rate }
local fg2 = fixture.input - bg2
for _, part in ipairs { { "background", bg2 }, { "foreground", fg2 } } do
  for w, span in pairs(ref.signal_windows_samples) do
    local got = part[2]:slice { start = span[1] / rate, duration = (span[2] - span[1]) / rate }
    local want = strata.load(string.format("%s/repet_%s_%s.wav", root, part[1], w))
    local snr = nussl.snr_db(got, want)
    t.check(string.format("strata repet's %s (%s) matches nussl's", part[1], w), snr >= 60,
      string.format("SNR %.1f dB", snr))
    print(string.format("# strata repet's %s %s: SNR %.1f dB against nussl", part[1], w, snr))
  end
end
