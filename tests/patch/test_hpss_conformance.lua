-- HPSS against librosa 0.11's outputs (corpus conformance/librosa_hpss): STFT
-- 2048/512 hann centred, kernel 31, power 2, soft masks times the complex
-- STFT, ISTFT to the input's length; SNR >= 60 dB for margin 1 and margin 2.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local root = t.corpus("conformance/librosa_hpss", "input.wav", "hpss conformance")
if not root then return end

local function snr_db(got, want)
  local w, e = want:eval().rms, (got - want):eval().rms
  return 20 * math.log(w / e, 10)
end

local x = strata.load(root .. "/input.wav")
local spec = x:stft { n_fft = 2048, hop = 512, window = "hann" }
local m1 = spec:hpss { kernel = 31, power = 2, margin = 1 }
local m2 = spec:hpss { kernel = 31, power = 2, margin = 2 }
for _, case in ipairs {
  { "margin 1 harmonic", m1.harmonic, "harmonic.wav" },
  { "margin 1 percussive", m1.percussive, "percussive.wav" },
  { "margin 2 harmonic", m2.harmonic, "harmonic_m2.wav" },
  { "margin 2 percussive", m2.percussive, "percussive_m2.wav" },
  { "margin 2 residual", m2.residual, "residual_m2.wav" },
} do
  local snr = snr_db(case[2]:istft(), strata.load(root .. "/" .. case[3]))
  t.check("hpss matches librosa: " .. case[1], snr >= 60, string.format("SNR %.1f dB", snr))
  print(string.format("# hpss %s: SNR %.1f dB against librosa", case[1], snr))
end

-- the masks of margin 1 sum to one; those of margin 2 leave a residual in [0, 1]
local masks = m1.masks:eval()
t.check("hpss masks shape", masks.shape[1] == 3 and masks.axes[1] == "mask", table.concat(masks.shape, "x"))
local sum = (m1.harmonic:istft() + m1.percussive:istft() - x):eval().peak
t.check("margin 1: harmonic + percussive = input", sum < 1e-5, sum)
local all = (m2.harmonic:istft() + m2.percussive:istft() + m2.residual:istft() - x):eval().peak
t.check("margin 2: harmonic + percussive + residual = input", all < 1e-5, all)
