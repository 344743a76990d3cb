-- REPET against nussl 1.1.9's own Repet (corpus conformance/nussl_repet): nussl's
-- STFT is scipy's (sqrt-Hann 2048/512, zeros at both ends and to a whole frame at the
-- end: 1724 frames), divided by the window's sum; strata's centred STFT of the input
-- with 176 zeros appended has the same frames, and the scale is put back here for the
-- beat spectrum (masks and signals do not depend on it).
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local json = require "json"

local root = t.corpus("conformance/nussl_repet", "repet.json", "repet conformance")
if not root then return end
local hpss_root = t.corpus("conformance/librosa_hpss", "input.wav", "repet conformance (input)")
if not hpss_root then return end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local ref = json.decode(read(root .. "/repet.json"))

local rate, n_fft, hop = 44100, 2048, 512
local x = strata.load(hpss_root .. "/input.wav")
local n = x:eval().frames
local padded = strata.mix { x, strata.signal { kind = "silence", seconds = (ref.n_frames - 1) * hop / rate } }
local spec = padded:stft { n_fft = n_fft, hop = hop, window = "sqrt_hann" }
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

-- The background mask in the stored windows (bins x 128 frames, float32 LE). strata's
-- spectra are float32: a bin's rounding is about 1e-7 of its frame's energy, so bins far
-- below their frame's peak carry relative errors above 1e-4 whatever the mask does (nussl
-- itself, fed float32, moves its mask by 5.5e-4; near Nyquist here strata's differ by up
-- to 9e-3). So: within 1e-4 at every bin no more than 50 dB below its frame's peak (about
-- half of them), and everywhere the difference times the bin's level (relative to the
-- peak, so: the error in the background's magnitude) within 1e-6.
local mask = r.mask:samples()
local mag = spec:magnitude():samples()
local n_bins = ref.n_bins
local function mask_diff(name, first)
  local bytes = read(root .. "/" .. name)
  local near, weighted, n_near = 0, 0, 0
  for j = 0, 127 do
    local base, peak = (first + j) * n_bins, 0
    for k = 1, n_bins do peak = math.max(peak, mag[base + k]) end
    for k = 0, n_bins - 1 do
      local want = string.unpack("<f", bytes, 4 * (k * 128 + j) + 1)
      local d = math.abs(mask[base + k + 1] - want)
      local level = mag[base + k + 1] / peak
      if level >= 10 ^ (-50 / 20) then
        n_near = n_near + 1
        near = math.max(near, d)
      end
      weighted = math.max(weighted, d * level)
    end
  end
  return near, weighted, n_near / (128 * n_bins)
end
for w, name in pairs { head = "repet_background_mask_head.f32", tail = "repet_background_mask_tail.f32" } do
  local near, weighted, share = mask_diff(name, ref.mask_windows_frames[w][1])
  t.check("background mask (" .. w .. ") within 1e-4 of nussl's (bins within 50 dB of the peak)", near <= 1e-4,
    string.format("max diff %.3g", near))
  t.check("background mask (" .. w .. ") times level within 1e-6 of nussl's", weighted <= 1e-6,
    string.format("max %.3g", weighted))
  print(string.format("# mask %s: max difference %.3g on %.0f %% of bins, weighted by level %.3g", w, near,
    100 * share, weighted))
end

-- the signals, in the stored windows
local function snr_db(got, want)
  local w, e = want:eval().rms, (got - want):eval().rms
  return 20 * math.log(w / e, 10)
end
local bg = r.background:istft():slice { duration = n / rate }
local fg = r.foreground:istft():slice { duration = n / rate }
for _, part in ipairs { { "background", bg }, { "foreground", fg } } do
  for w, span in pairs(ref.signal_windows_samples) do
    local got = part[2]:slice { start = span[1] / rate, duration = (span[2] - span[1]) / rate }
    local want = strata.load(string.format("%s/repet_%s_%s.wav", root, part[1], w))
    local snr = snr_db(got, want)
    t.check(string.format("%s (%s) matches nussl's", part[1], w), snr >= 60, string.format("SNR %.1f dB", snr))
    print(string.format("# %s %s: SNR %.1f dB against nussl", part[1], w, snr))
  end
end
