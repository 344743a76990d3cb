-- What the REPET conformance tests share (corpus conformance/nussl_repet, whose
-- README says how nussl 1.1.9 made each file): nussl's STFT and the mask comparison.
-- nussl's STFT is scipy's (sqrt-Hann 2048/512, zeros at both ends and to a whole frame
-- at the end: 1724 frames for the 20 s input), divided by the window's sum; strata's
-- centred STFT of the input with zeros appended has the same frames (the scale cancels
-- in every mask and signal).
local strata = require "strata"
local t = require "harness"
local json = require "json"

local nussl = { rate = 44100, n_fft = 2048, hop = 512 }

function nussl.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The fixture `name` (a JSON file of the folder) and the input it was made from:
-- { root, ref, input }, or nil after one skip line when the corpus is absent.
function nussl.open(name, what)
  local root = t.corpus("conformance/nussl_repet", name, what)
  if not root then return nil end
  local input_root = t.corpus("conformance/librosa_hpss", "input.wav", what .. " (input)")
  if not input_root then return nil end
  return { root = root, ref = json.decode(nussl.read(root .. "/" .. name)),
    input = strata.load(input_root .. "/input.wav") }
end

-- nussl's STFT of audio as n_frames frames (the input's frames and its padding).
function nussl.stft(audio, n_frames)
  local padded = strata.mix { audio,
    strata.signal { kind = "silence", seconds = (n_frames - 1) * nussl.hop / nussl.rate } }
  return padded:stft { n_fft = nussl.n_fft, hop = nussl.hop, window = "sqrt_hann" }
end

-- The SNR in dB of got against want (audio handles of one length).
function nussl.snr_db(got, want)
  return 20 * math.log(want:eval().rms / (got - want):eval().rms, 10)
end

-- A background mask against nussl's in a stored window of 128 frames from `first`
-- (file: bins x 128 frames, float32 LE). strata's spectra are float32: a bin's
-- rounding is about 1e-7 of its frame's energy, so bins far below their frame's peak
-- carry relative errors above 1e-4 whatever the mask does (nussl itself, fed float32,
-- moves its mask by 5.5e-4; near Nyquist strata's differ by up to 9e-3). So: within
-- 1e-4 at every bin no more than 50 dB below its frame's peak (about half of them),
-- and everywhere the difference times the bin's level (relative to the peak, so: the
-- error in the background's magnitude) within 1e-6. mask and mag: samples tables.
function nussl.check_mask(label, mask, mag, path, first, n_bins)
  local bytes = nussl.read(path)
  local near, weighted, n_near = 0, 0, 0
  for j = 0, 127 do
    local base, peak = (first + j) * n_bins, 0
    for k = 1, n_bins do peak = math.max(peak, mag[base + k]) end
    for k = 0, n_bins - 1 do
      local d = math.abs(mask[base + k + 1] - string.unpack("<f", bytes, 4 * (k * 128 + j) + 1))
      local level = mag[base + k + 1] / peak
      if level >= 10 ^ (-50 / 20) then
        n_near = n_near + 1
        near = math.max(near, d)
      end
      weighted = math.max(weighted, d * level)
    end
  end
  t.check(label .. " within 1e-4 of nussl's (bins within 50 dB of the peak)", near <= 1e-4,
    string.format("max diff %.3g", near))
  t.check(label .. " times level within 1e-6 of nussl's", weighted <= 1e-6, string.format("max %.3g", weighted))
  print(string.format("# %s: max difference %.3g on %.0f %% of bins, weighted by level %.3g", label, near,
    100 * n_near / (128 * n_bins), weighted))
end

return nussl
