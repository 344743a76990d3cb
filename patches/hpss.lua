-- strata hpss IN -o DIR [--kernel K | --kernel-h K --kernel-p K] [--margin M] [--power P] [--hard]
local strata = require "strata"

local opt = strata.args {
  usage = "IN -o DIR [--kernel K | --kernel-h K --kernel-p K] [--margin M] [--power P] [--hard]",
  doc = "Split IN into harmonic.wav and percussive.wav in DIR (and residual.wav when a margin is\n" ..
        "above 1) by median-filtering HPSS, as librosa.decompose.hpss. Channels and rate are kept.",
  positional = { { "input", "the audio file to split" } },
  options = {
    { "o", "", "the folder to write into (it must exist)" },
    { "output", "", "the same as -o" },
    { "kernel", 31, "median filter length for both directions" },
    { "kernel-h", 0, "harmonic filter length in frames (0: --kernel)" },
    { "kernel-p", 0, "percussive filter length in bins (0: --kernel)" },
    { "margin", 1, "Driedger's margin (above 1 leaves a residual)" },
    { "power", 2, "soft mask exponent" },
    { "hard", false, "binary masks instead of soft ones" },
    { "n-fft", 2048, "STFT frame length" },
    { "hop", 512, "STFT hop" },
  },
}
local dir = opt.o ~= "" and opt.o or opt.output
if dir == "" then error("strata hpss: missing -o DIR (see --help)", 0) end
local song = strata.load(opt.input)
local parts = song:stft { n_fft = opt.n_fft, hop = opt.hop }:hpss {
  kernel = opt.kernel, kernel_h = opt.kernel_h, kernel_p = opt.kernel_p,
  margin = opt.margin, power = opt.power, mask = opt.hard and "hard" or "soft",
}
local written = { "harmonic", "percussive" }
if opt.margin > 1 then written[3] = "residual" end
for _, name in ipairs(written) do parts[name]:istft():save(dir .. "/" .. name .. ".wav") end
print(string.format("wrote %s in %s", table.concat(written, ".wav, ") .. ".wav", dir))
